package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	gosync "sync"
	"testing"

	"github.com/dataexport/dataexport/internal/azuritetest"
)

// TestMain makes sure Azurite answers: the tests need the real Table, Queue
// and Blob endpoints.
func TestMain(m *testing.M) { azuritetest.Main(m) }

// syncWriter lets concurrent handlers log into one buffer.
type syncWriter struct {
	mu  gosync.Mutex
	buf *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}
