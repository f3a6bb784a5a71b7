package dvemu

import (
	"io"
	"net/http/httptest"
	"testing"
)

// BenchmarkServePage measures the emulator alone: one 5000-row page of a
// large generated entity, rendered to io.Discard.
func BenchmarkServePage(b *testing.B) {
	e, err := New(Options{Records: 1_000_000, Faults: Faults{RequestLimit: -1}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/data/v9.2/contacts?$select=fullname,emailaddress1,birthdate,annualincome,_parentcustomerid_value,statecode,modifiedon,versionnumber", nil)
		req.Header.Set("Authorization", "Bearer "+DefaultToken)
		req.Header.Set("Prefer", "odata.track-changes,odata.maxpagesize=5000")
		w := httptest.NewRecorder()
		w.Body = nil
		e.ServeHTTP(discardRecorder{w}, req)
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "rows/s")
}

type discardRecorder struct{ *httptest.ResponseRecorder }

func (d discardRecorder) Write(p []byte) (int, error) { return io.Discard.Write(p) }
