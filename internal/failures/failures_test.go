package failures

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

var pinned = time.Date(2026, 11, 25, 10, 7, 9, 0, time.UTC)

// newStore returns a Store whose containers all start with a fresh prefix,
// removed at the end of the test.
func newStore(t testing.TB) (*Store, *azblob.Client) {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(connString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := uniqueName("t") + "-"
	s, err := NewStore(c, &Options{ContainerPrefix: prefix, Now: func() time.Time { return pinned }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		pager := c.NewListContainersPager(&azblob.ListContainersOptions{Prefix: to.Ptr(prefix)})
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Logf("listing containers: %v", err)
				return
			}
			for _, ci := range page.ContainerItems {
				if _, err := c.DeleteContainer(ctx, *ci.Name, nil); err != nil {
					t.Logf("deleting container %s: %v", *ci.Name, err)
				}
			}
		}
	})
	return s, c
}

// blobs lists every blob name under prefix in a container.
func blobs(t *testing.T, c *azblob.Client, cont, prefix string) []string {
	t.Helper()
	var out []string
	pager := c.NewListBlobsFlatPager(cont, &azblob.ListBlobsFlatOptions{Prefix: to.Ptr(prefix)})
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			out = append(out, *b.Name)
		}
	}
	return out
}

func download(t *testing.T, c *azblob.Client, cont, name string) string {
	t.Helper()
	resp, err := c.DownloadStream(context.Background(), cont, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var containerRe = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9])*$`)

func TestContainerName(t *testing.T) {
	tests := []struct {
		profile, wantStart string
	}{
		{"prod", "failed-prod-"},
		{"My_Profile", "failed-my-profile-"},
		{"a-b", "failed-a-b-"},
		{"A_b", "failed-a-b-"},
		{"x__--y", "failed-x-y-"},
		{"_", "failed-"},
		{strings.Repeat("Ab1_", 15) + "zzz", "failed-ab1-ab1-"},
		{"", "failed-unassigned"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := containerName(DefaultContainerPrefix, tt.profile)
		if !strings.HasPrefix(got, tt.wantStart) {
			t.Errorf("containerName(%q) = %q, want prefix %q", tt.profile, got, tt.wantStart)
		}
		if len(got) < 3 || len(got) > 63 || !containerRe.MatchString(got) {
			t.Errorf("containerName(%q) = %q breaks the container naming rules", tt.profile, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("profiles %q and %q share container %q", other, tt.profile, got)
		}
		seen[got] = tt.profile
	}
	if containerName(DefaultContainerPrefix, "prod") != containerName(DefaultContainerPrefix, "prod") {
		t.Error("containerName is not stable")
	}
}

func TestNewRejectsBadPrefix(t *testing.T) {
	c, err := azblob.NewClientFromConnectionString(connString(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"Failed-", "-x", "a--b", "a_b", strings.Repeat("a", 21)} {
		if _, err := NewStore(c, &Options{ContainerPrefix: p}); err == nil {
			t.Errorf("NewStore accepted prefix %q", p)
		}
	}
}

func TestFormatLogLine(t *testing.T) {
	at := time.Date(2016, 12, 28, 0, 32, 39, 0, time.UTC)
	tests := []struct {
		entity, id, change, reason, want string
	}{
		{"contact", "459d1d3e-7cc8-e611-80f7-5065f38bf1c1", ChangeUpdate, "The database 'tempdb' has reached its size quota.",
			"Entity: contact, RecordId: 459d1d3e-7cc8-e611-80f7-5065f38bf1c1, NotificationTime: 12/28/2016 12:32:39 AM, ChangeType: Update, FailureReason: The database 'tempdb' has reached its size quota."},
		{"lead", "", ChangeInitialExport, "There is already an object named 'hatest201_lead' in the database.",
			"Entity: lead, RecordId: N/A, NotificationTime: 12/28/2016 12:32:39 AM, ChangeType: Trigger Initial Export, FailureReason: There is already an object named 'hatest201_lead' in the database."},
	}
	for _, tt := range tests {
		if got := FormatLogLine(tt.entity, tt.id, at, tt.change, tt.reason); got != tt.want {
			t.Errorf("FormatLogLine =\n%s\nwant\n%s", got, tt.want)
		}
	}
	if got := FormatLogLine("a", "1", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), ChangeNew, "x"); !strings.Contains(got, "NotificationTime: 1/2/2026 3:04:05 PM,") {
		t.Errorf("afternoon time: %s", got)
	}
}

func TestWriteFailureAndResync(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	const profile = "Sales_EU"
	cont := s.ContainerName(profile)

	reason := "Violation of PRIMARY KEY, naïve → retry\nline two, 100% sure"
	writes := []struct {
		entity, id, change string
		payload            string
	}{
		{"contact", "459d1d3e-7cc8-e611-80f7-5065f38bf1c1", ChangeUpdate, `{"contactid":"459d1d3e-7cc8-e611-80f7-5065f38bf1c1"}`},
		{"contact", "", ChangeNew, `{"fullname":"no id"}`},
		{"account", "0a0b", ChangeDelete, `{"accountid":"0a0b"}`},
	}
	for _, w := range writes {
		if err := s.WriteFailure(ctx, profile, w.entity, w.id, w.change, reason, []byte(w.payload)); err != nil {
			t.Fatal(err)
		}
	}

	logs := blobs(t, c, cont, FailureLogFolder)
	if len(logs) != 3 {
		t.Fatalf("failure logs = %v, want 3", logs)
	}
	var lines []string
	for _, l := range logs {
		if !strings.HasPrefix(l, "failurelog/2026/11/25/10/") {
			t.Errorf("log blob %q is not under failurelog/YYYY/MM/DD/HH/", l)
		}
		lines = append(lines, download(t, c, cont, l))
	}
	wantLine := FormatLogLine("contact", "", pinned, ChangeNew, reason) + "\n"
	if !slices.Contains(lines, wantLine) {
		t.Errorf("log lines %q lack %q", lines, wantLine)
	}

	var all []Failure
	for f, err := range s.List(ctx, profile, "") {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, f)
	}
	if len(all) != 3 {
		t.Fatalf("List = %d failures, want 3", len(all))
	}
	for _, f := range all {
		if !strings.HasPrefix(f.Blob, DataFolder+f.Entity+"/") {
			t.Errorf("payload %q is not under data/<entity>/", f.Blob)
		}
		if f.Reason != reason || !f.NotificationTime.Equal(pinned) || f.Profile != profile || f.Size == 0 {
			t.Errorf("Failure = %+v", f)
		}
		if !slices.Contains(logs, f.LogBlob) {
			t.Errorf("LogBlob %q is not one of the logs", f.LogBlob)
		}
	}

	var contacts []Failure
	for f, err := range s.List(ctx, profile, "contact") {
		if err != nil {
			t.Fatal(err)
		}
		contacts = append(contacts, f)
	}
	if len(contacts) != 2 {
		t.Fatalf("List(contact) = %d, want 2", len(contacts))
	}
	for _, f := range contacts {
		r, err := s.Open(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r)
		r.Close()
		i := slices.IndexFunc(writes, func(w struct{ entity, id, change, payload string }) bool {
			return w.entity == f.Entity && w.id == f.RecordID
		})
		if i < 0 || string(body) != writes[i].payload || f.ChangeType != writes[i].change {
			t.Errorf("failure %+v has payload %s", f, body)
		}
	}

	// Resync: one succeeds (resolved), one fails again (logged apart).
	if err := s.Resolve(ctx, contacts[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Resolve(ctx, contacts[0]); err != nil {
		t.Fatalf("second Resolve: %v", err)
	}
	if err := s.LogResyncFailure(ctx, contacts[1], "still broken"); err != nil {
		t.Fatal(err)
	}
	left := 0
	for _, err := range s.List(ctx, profile, "contact") {
		if err != nil {
			t.Fatal(err)
		}
		left++
	}
	if left != 1 {
		t.Fatalf("%d contact failures after resolving one, want 1", left)
	}
	resync := blobs(t, c, cont, ResyncLogFolder+"2026/11/25/10/")
	if len(resync) != 1 {
		t.Fatalf("forcerefreshfailurelog = %v", resync)
	}
	if got := download(t, c, cont, resync[0]); !strings.HasSuffix(got, "FailureReason: still broken\n") || !strings.HasPrefix(got, "Entity: contact,") {
		t.Errorf("resync log = %q", got)
	}
	if logs := blobs(t, c, cont, FailureLogFolder); len(logs) != 3 {
		t.Errorf("resolving removed log lines: %v", logs)
	}

	if u, err := s.ListUnprocessable(ctx, "never-written"); err != nil || len(u) != 0 {
		t.Fatalf("ListUnprocessable on a missing container = %v, %v", u, err)
	}
	// Every blob carries the tag the lifecycle rule deletes by.
	for _, prefix := range []string{DataFolder, FailureLogFolder, ResyncLogFolder} {
		for _, name := range blobs(t, c, cont, prefix) {
			tags, err := c.ServiceClient().NewContainerClient(cont).NewBlobClient(name).GetTags(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, tag := range tags.BlobTagSet {
				found = found || (*tag.Key == "dataexport" && *tag.Value == "failure")
			}
			if !found {
				t.Errorf("blob %s lacks the retention tag", name)
			}
		}
	}

	if err := s.Purge(ctx, profile); err != nil {
		t.Fatal(err)
	}
	for _, err := range s.List(ctx, profile, "") {
		t.Fatalf("List after Purge yielded (err %v)", err)
	}
}

func TestWriteFailureLongReason(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	reason := strings.Repeat("é%", 3000) // escapes to far more than the metadata cap
	if err := s.WriteFailure(ctx, "p", "account", "1", ChangeNew, reason, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for f, err := range s.List(ctx, "p", "") {
		if err != nil {
			t.Fatal(err)
		}
		if f.Reason == "" || !strings.HasPrefix(reason, f.Reason) {
			t.Fatalf("Reason %q is not a prefix of the original", f.Reason)
		}
	}
}

func TestWriteUnprocessable(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	tests := []struct{ profile string }{{""}, {"prod"}}
	for _, tt := range tests {
		body := `{"v":99,"garbage":` + tt.profile
		if err := s.WriteUnprocessable(ctx, tt.profile, []byte(body), "unknown message version 99"); err != nil {
			t.Fatal(err)
		}
		cont := s.ContainerName(tt.profile)
		if tt.profile == "" && !strings.HasSuffix(cont, "unassigned") {
			t.Errorf("container for no profile = %q", cont)
		}
		got := blobs(t, c, cont, UnprocessableFolder)
		if len(got) != 1 {
			t.Fatalf("%s: unprocessable blobs = %v", cont, got)
		}
		if b := download(t, c, cont, got[0]); b != body {
			t.Errorf("stored %q, want %q", b, body)
		}
		listed, err := s.ListUnprocessable(ctx, tt.profile)
		if err != nil || len(listed) != 1 {
			t.Fatalf("ListUnprocessable(%q) = %v, %v", tt.profile, listed, err)
		}
		if u := listed[0]; u.Blob != got[0] || u.Reason != "unknown message version 99" || !u.Time.Equal(pinned) || u.Size != int64(len(body)) || u.Profile != tt.profile {
			t.Errorf("Unprocessable = %+v", u)
		}
		r, err := s.OpenBlob(ctx, tt.profile, listed[0].Blob)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if string(b) != body {
			t.Errorf("OpenBlob = %q", b)
		}
		// Not mistaken for a failed record by the resync reader.
		for _, err := range s.List(ctx, tt.profile, "") {
			t.Fatalf("List yielded an unprocessable message (err %v)", err)
		}
	}
}

func TestWriteFailureRejectsUnsafeNames(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t)
	tests := []struct{ entity, id string }{
		{"a/b", "1"}, {"", "1"}, {"account", "../x"}, {"account", "a b"}, {"..", "1"},
	}
	for _, tt := range tests {
		if err := s.WriteFailure(ctx, "p", tt.entity, tt.id, ChangeNew, "r", nil); err == nil {
			t.Errorf("WriteFailure(%q, %q) succeeded", tt.entity, tt.id)
		}
	}
	pager := c.NewListBlobsFlatPager(s.ContainerName("p"), nil)
	if pager.More() {
		page, err := pager.NextPage(ctx)
		if err == nil && len(page.Segment.BlobItems) > 0 {
			t.Fatalf("rejected writes left blobs: %d", len(page.Segment.BlobItems))
		}
	}
}

func TestReadOnlyURL(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	// Signing uses the pinned clock; make it now so the URL is valid.
	s.now = time.Now
	if err := s.WriteFailure(ctx, "prod", "account", "1", ChangeNew, "boom", []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFailure(ctx, "other", "account", "2", ChangeNew, "boom", []byte(`{"b":2}`)); err != nil {
		t.Fatal(err)
	}
	u, err := s.ReadOnlyURL(ctx, "prod", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "/"+s.ContainerName("prod")+"?") || !strings.Contains(u, "sp=rl") {
		t.Fatalf("URL %q is not a read+list SAS on the profile's container", u)
	}
	anon, err := container.NewClientWithNoCredential(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	pager := anon.NewListBlobsFlatPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("listing with the URL: %v", err)
		}
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	if len(names) != 2 { // one log line, one payload
		t.Fatalf("URL lists %v, want the profile's 2 blobs", names)
	}
	var payload string
	for _, n := range names {
		if strings.HasPrefix(n, DataFolder) {
			resp, err := anon.NewBlobClient(n).DownloadStream(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			payload = string(b)
		}
	}
	if payload != `{"a":1}` {
		t.Fatalf("payload through the URL = %q", payload)
	}
	// Read-only: writing and deleting are refused.
	if _, err := anon.NewBlockBlobClient("data/x.json").UploadBuffer(ctx, []byte("x"), nil); err == nil {
		t.Fatal("the read-only URL allowed a write")
	}
	if _, err := anon.NewBlobClient(names[0]).Delete(ctx, nil); err == nil {
		t.Fatal("the read-only URL allowed a delete")
	}
}
