package dvemu

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// BenchmarkInitialRead pages through a generated entity of 1M rows the way
// a client does; memory stays flat because rows are generated on demand.
//
//	go test ./internal/dvemu -run XXX -bench InitialRead -benchtime 1x
func BenchmarkInitialRead(b *testing.B) {
	const records = 1_000_000
	e, err := New(Options{Records: records})
	if err != nil {
		b.Fatal(err)
	}
	_, srv := newBenchServer(b, e)
	for b.Loop() {
		url := srv + "/api/data/v9.2/contacts?$select=fullname,emailaddress1,birthdate,annualincome,_parentcustomerid_value,statecode,modifiedon,versionnumber"
		prefer := "odata.track-changes,odata.maxpagesize=5000"
		rows, bytes := 0, int64(0)
		var peak uint64
		for url != "" {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+DefaultToken)
			req.Header.Set("Prefer", prefer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			bytes += int64(len(body))
			rows += strings.Count(string(body), `"@odata.etag"`)
			url = ""
			if i := strings.Index(string(body), `"@odata.nextLink":"`); i >= 0 {
				rest := string(body)[i+len(`"@odata.nextLink":"`):]
				url = rest[:strings.IndexByte(rest, '"')]
			}
			prefer = "odata.maxpagesize=5000"
			var ms runtime.MemStats
			if rows%100000 == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		if rows != records {
			b.Fatalf("%d rows", rows)
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(bytes)/float64(rows), "B/row")
		b.ReportMetric(float64(peak)/(1<<20), "MiB-heap")
	}
}

func newBenchServer(b *testing.B, e *Emulator) (*Emulator, string) {
	srv := httptestServer(e)
	b.Cleanup(srv.Close)
	return e, srv.URL
}
