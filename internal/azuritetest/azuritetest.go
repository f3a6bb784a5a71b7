// Package azuritetest gives tests the live Azure Storage endpoints of
// Azurite: it starts Azurite through scripts/azurite.sh when its ports are
// closed, and names the account to use.
package azuritetest

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

// DevStorage is Azurite's well-known account.
const DevStorage = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

// ConnString is the account tests use: AZURE_STORAGE_CONNECTION_STRING when
// set (another account), else Azurite.
func ConnString() string {
	if s := os.Getenv("AZURE_STORAGE_CONNECTION_STRING"); s != "" {
		return s
	}
	return DevStorage
}

// Main is a TestMain: it makes sure Azurite answers (unless another account
// is configured), then runs the tests. It fails the run, never skips it.
func Main(m *testing.M) {
	if os.Getenv("AZURE_STORAGE_CONNECTION_STRING") == "" {
		if err := Ensure(); err != nil {
			fmt.Fprintln(os.Stderr, "azurite:", err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// Ensure starts Azurite through scripts/azurite.sh unless all three ports
// already answer.
func Ensure() error {
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

// UniqueName returns a fresh table/queue/container-safe name.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
