package notifytest

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func send(t *testing.T, path, msg string) {
	t.Helper()
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Error(err)
	}
}

func TestListener(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Run("inner", func(t *testing.T) {
		l := Listen(t)
		if got, want := l.Env(), "NOTIFY_SOCKET="+l.Path(); got != want {
			t.Fatalf("Env() = %q, want %q", got, want)
		}
		if l.Seen("READY=1") {
			t.Fatal("Seen before any message")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		go func() {
			time.Sleep(20 * time.Millisecond) // let Wait block first
			send(t, l.Path(), "READY=1\nSTATUS=serving 3 tracks")
		}()
		line, err := l.Wait(ctx, "STATUS=")
		if err != nil {
			t.Fatal(err)
		}
		if line != "STATUS=serving 3 tracks" {
			t.Fatalf("Wait = %q", line)
		}
		send(t, l.Path(), "WATCHDOG=1")
		if _, err := l.Wait(ctx, "WATCHDOG=1"); err != nil {
			t.Fatal(err)
		}
		send(t, l.Path(), "WATCHDOG=1")
		if err := l.WaitCount(ctx, "WATCHDOG=", 2); err != nil {
			t.Fatal(err)
		}
		if n := l.Count("WATCHDOG=1"); n != 2 {
			t.Fatalf("Count(WATCHDOG=1) = %d, want 2", n)
		}
		want := []string{"READY=1", "STATUS=serving 3 tracks", "WATCHDOG=1", "WATCHDOG=1"}
		if got := l.Messages(); !slices.Equal(got, want) {
			t.Fatalf("Messages() = %q, want %q", got, want)
		}
		if !l.Seen("READY") {
			t.Fatal("Seen(READY) = false")
		}
		short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancelShort()
		if _, err := l.Wait(short, "STOPPING=1"); err != context.DeadlineExceeded {
			t.Fatalf("Wait for an absent line = %v, want deadline exceeded", err)
		}
	})
}

func TestListenLongName(t *testing.T) {
	name := strings.Repeat("x", 60)
	t.Run(name, func(t *testing.T) {
		l := Listen(t)
		if len(l.Path()) > maxSocketPath {
			t.Fatalf("socket path too long: %d", len(l.Path()))
		}
		send(t, l.Path(), "READY=1")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := l.Wait(ctx, "READY=1"); err != nil {
			t.Fatal(err)
		}
	})
}
