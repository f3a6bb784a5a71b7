package dvemu

import (
	"context"
	"testing"
)

func TestDrive(t *testing.T) {
	e, srv := newTestEmu(t, Options{Records: 50, RandSeed: 9})
	_, _, delta := readAll(t, srv, "/api/data/v9.2/accounts?$select=name", 5000, trackPrefer)
	before := len(e.IDs("account"))
	st, err := e.Drive(context.Background(), DriveOptions{Entities: []string{"account"}}, 200)
	if err != nil {
		t.Fatal(err)
	}
	if st.Inserts+st.Updates+st.Deletes != 200 || st.Inserts == 0 || st.Updates == 0 || st.Deletes == 0 {
		t.Fatalf("stats %+v", st)
	}
	after := e.IDs("account")
	if len(after) != before+st.Inserts-st.Deletes {
		t.Fatalf("%d rows, want %d", len(after), before+st.Inserts-st.Deletes)
	}
	// The delta holds every live changed row once and every deleted one once.
	rows, _, _ := readAll(t, srv, delta, 5000)
	seen := map[string]bool{}
	deletes := 0
	for _, r := range rows {
		id, _ := r["accountid"].(string)
		if r["reason"] == "deleted" {
			id = r["id"].(string)
			deletes++
		}
		if seen[id] {
			t.Fatalf("id %s twice in one delta", id)
		}
		seen[id] = true
	}
	if deletes != st.Deletes {
		t.Fatalf("%d deletes in delta, drove %d", deletes, st.Deletes)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Drive(ctx, DriveOptions{}, 0); err == nil {
		t.Fatal("cancelled drive returned nil")
	}
}
