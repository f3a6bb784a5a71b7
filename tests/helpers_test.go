package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	gosync "sync"
	"testing"
	"time"
)

// TestMain makes sure Azurite answers; it starts it through the project's
// script when it does not (the tests need the real Table, Queue and Blob endpoints).
func TestMain(m *testing.M) {
	if !azuriteUp() {
		cmd := exec.Command("bash", "../scripts/azurite.sh", "start")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			os.Stderr.WriteString("tests: Azurite is not running and scripts/azurite.sh start failed: " + err.Error() + "\n")
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

func azuriteUp() bool {
	for _, port := range []string{"10000", "10001", "10002"} {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

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
