package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/zap/zapcore"
)

// buffer is a WriteSyncer whose Sync returns syncErr.
type buffer struct {
	bytes.Buffer
	syncErr error
}

func (b *buffer) Sync() error { return b.syncErr }

func TestNewLevelAndFormat(t *testing.T) {
	tests := []struct {
		level, format string
		wantLines     int // of debug, info, warn, error
		json          bool
	}{
		{"debug", "console", 4, false},
		{"info", "console", 3, false},
		{"warn", "json", 2, true},
		{"error", "json", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.level+"/"+tt.format, func(t *testing.T) {
			var out buffer
			l, err := newLogger(Config{Level: tt.level, Format: tt.format}, &out, false)
			if err != nil {
				t.Fatal(err)
			}
			l.Debug("d")
			l.Info("i")
			l.Warn("w")
			l.Error("e")
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != tt.wantLines {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), tt.wantLines, out.String())
			}
			for _, line := range lines {
				var m map[string]any
				isJSON := json.Unmarshal([]byte(line), &m) == nil
				if isJSON != tt.json {
					t.Fatalf("line %q: JSON = %v, want %v", line, isJSON, tt.json)
				}
				if !tt.json && (!strings.Contains(line, "\tERROR\t") && !strings.Contains(line, "\tWARN\t") && !strings.Contains(line, "\tINFO\t") && !strings.Contains(line, "\tDEBUG\t")) {
					t.Fatalf("console line lacks a plain level: %q", line)
				}
				if strings.Contains(line, "\x1b[") {
					t.Fatalf("colour codes when not on a terminal: %q", line)
				}
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Level: "loud", Format: "console"}, {Level: "info", Format: "xml"}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
	l, err := New(Config{Level: "warn", Format: "console"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Core().Enabled(zapcore.InfoLevel) || !l.Core().Enabled(zapcore.WarnLevel) {
		t.Fatal("New ignores the level")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	err := Config{Level: "verbose", Format: "text"}.Validate()
	for _, want := range []string{"log.level:", "log.format:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func TestSyncIgnoresStderrRefusals(t *testing.T) {
	tests := []struct {
		err     error
		wantErr bool
	}{
		{nil, false},
		{&os.PathError{Op: "sync", Path: "/dev/stderr", Err: syscall.EINVAL}, false},
		{&os.PathError{Op: "sync", Path: "/dev/stderr", Err: syscall.ENOTTY}, false},
		{&os.PathError{Op: "sync", Path: "/var/log/x", Err: syscall.EIO}, true},
	}
	for _, tt := range tests {
		l, err := newLogger(DefaultConfig(), &buffer{syncErr: tt.err}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := flush(l); (got != nil) != tt.wantErr || (got != nil && !errors.Is(got, syscall.EIO)) {
			t.Errorf("sync with %v = %v", tt.err, got)
		}
	}
}
