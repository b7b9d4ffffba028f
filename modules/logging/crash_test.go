package logging

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// crashDirEnv has no MUSICFS_ prefix: config.Load would refuse it as an
// unknown key if it leaked into a daemon's environment.
const crashDirEnv = "LOGGING_TEST_CRASH_DIR"

// TestCrashHelperProcess is the child of TestCrashOutputCycle: it starts
// the crash output and dies of a panic in a goroutine. It does nothing when
// run directly.
func TestCrashHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashOutputCycle")
	}
	c := NewCrashOutput(Config{StateDir: dir}, zap.NewNop())
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	go func() { panic("boom: crash test " + dir) }()
	select {} // the panic ends the process
}

func TestCrashOutputCycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")

	// A run that crashes.
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Fatalf("helper did not die of a panic (err %v):\n%s", err, out)
	}
	crash, err := os.ReadFile(filepath.Join(dir, CrashLog))
	if err != nil || !strings.Contains(string(crash), "panic: boom: crash test") {
		t.Fatalf("crash.log = %q, %v; want the panic", crash, err)
	}
	assertMode(t, dir, 0o700)
	assertMode(t, filepath.Join(dir, CrashLog), 0o600)

	// The next start reports it and rotates it.
	core, logs := observer.New(zap.InfoLevel)
	c := NewCrashOutput(Config{StateDir: dir}, zap.New(core))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	entries := logs.FilterMessage("previous run crashed").All()
	if len(entries) != 1 {
		t.Fatalf("want one \"previous run crashed\" entry, got %v", logs.All())
	}
	fields := entries[0].ContextMap()
	if entries[0].Level != zap.ErrorLevel ||
		!strings.Contains(fields["output"].(string), "panic: boom: crash test") ||
		fields["path"] != filepath.Join(dir, CrashLog+".1") {
		t.Fatalf("report: level %v fields %v", entries[0].Level, fields)
	}
	if rotated, _ := os.ReadFile(filepath.Join(dir, CrashLog+".1")); string(rotated) != string(crash) {
		t.Fatalf("crash.log.1 = %q, want the crash output", rotated)
	}
	if fi, err := os.Stat(filepath.Join(dir, CrashLog)); err != nil || fi.Size() != 0 {
		t.Fatalf("fresh crash.log: %v, %v", fi, err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A clean run leaves an empty crash.log: nothing to report next time.
	logs.TakeAll()
	c = NewCrashOutput(Config{StateDir: dir}, zap.New(core))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := logs.FilterMessage("previous run crashed").Len(); n != 0 {
		t.Fatalf("clean run reported as a crash")
	}
}

func TestCrashRotationKeepsThree(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		CrashLog: "crash 4", CrashLog + ".1": "crash 3", CrashLog + ".2": "crash 2", CrashLog + ".3": "crash 1",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := NewCrashOutput(Config{StateDir: dir}, zap.NewNop())
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	for name, want := range map[string]string{
		CrashLog: "", CrashLog + ".1": "crash 4", CrashLog + ".2": "crash 3", CrashLog + ".3": "crash 2",
	} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, CrashLog+".4")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("crash.log.4 exists: %v", err)
	}
}

func TestCrashReportIsBounded(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 200<<10)
	if err := os.WriteFile(filepath.Join(dir, CrashLog), []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	c := NewCrashOutput(Config{StateDir: dir}, zap.New(core))
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop(context.Background())
	e := logs.FilterMessage("previous run crashed").All()
	if len(e) != 1 || len(e[0].ContextMap()["output"].(string)) != 64<<10 || e[0].ContextMap()["truncated"] != true {
		t.Fatalf("report not bounded to 64 KiB: %d entries", len(e))
	}
}

func TestStateDirMode(t *testing.T) {
	tests := []struct {
		name     string
		existing os.FileMode // 0: does not exist
		want     os.FileMode
	}{
		{"created", 0, 0o700},
		{"too open", 0o755, 0o700},
		{"already private", 0o700, 0o700},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "state")
			if tt.existing != 0 {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			c := NewCrashOutput(Config{StateDir: dir}, zap.NewNop())
			if err := c.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer c.Stop(context.Background())
			assertMode(t, dir, tt.want)
		})
	}
}

func TestStateDirNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := NewCrashOutput(Config{StateDir: file}, zap.NewNop())
	if err := c.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "state_dir") {
		c.Stop(context.Background())
		t.Fatalf("Start = %v, want an error naming state_dir", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s: mode %o, want %o", path, got, want)
	}
}
