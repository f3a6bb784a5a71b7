package failures

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// devStorage is Azurite's well-known account; AZURE_STORAGE_CONNECTION_STRING
// points the tests at another account.
const devStorage = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

func connString() string {
	if s := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); s != "" {
		return s
	}
	return devStorage
}

func TestMain(m *testing.M) {
	if os.Getenv("AZURE_STORAGE_CONNECTION_STRING") == "" {
		if err := ensureAzurite(); err != nil {
			fmt.Fprintln(os.Stderr, "azurite:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// ensureAzurite starts Azurite through scripts/azurite.sh unless all three
// ports already answer.
func ensureAzurite() error {
	if portsOpen() {
		return nil
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "azurite.sh"), "start")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("scripts/azurite.sh start: %w\n%s", err, out)
	}
	if !portsOpen() {
		return fmt.Errorf("scripts/azurite.sh start succeeded but the ports are closed:\n%s", out)
	}
	return nil
}

func portsOpen() bool {
	for _, p := range []string{"10000", "10001", "10002"} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", p), time.Second)
		if err != nil {
			return false
		}
		c.Close()
	}
	return true
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// uniqueName returns a fresh table/queue/container-safe name.
func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
