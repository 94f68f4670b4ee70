package instance

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// qmp is QEMU's machine protocol on a unix socket: screendumps, input
// events (input-send-event) and hotplug (device_add, device_del).
type qmp struct {
	t  *testing.T
	mu sync.Mutex
	c  net.Conn
	r  *bufio.Reader
	// deleted receives the ids of DEVICE_DELETED events.
	deleted chan string
}

func dialQMP(t *testing.T, sock string) *qmp {
	t.Helper()
	var c net.Conn
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err = net.DialTimeout("unix", sock, 5*time.Second); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("QMP: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	q := &qmp{t: t, c: c, r: bufio.NewReader(c), deleted: make(chan string, 16)}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := q.r.ReadBytes('\n'); err != nil { // the greeting
		t.Fatalf("QMP greeting: %v", err)
	}
	if _, err := q.do("qmp_capabilities", nil); err != nil {
		t.Fatalf("QMP: %v", err)
	}
	return q
}

// do runs one command and returns its "return" value; async events read
// on the way are noted.
func (q *qmp) do(cmd string, args any) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.c.SetDeadline(time.Now().Add(60 * time.Second))
	req := map[string]any{"execute": cmd}
	if args != nil {
		req["arguments"] = args
	}
	b, _ := json.Marshal(req)
	if _, err := q.c.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("QMP %s: %w", cmd, err)
	}
	for {
		line, err := q.r.ReadBytes('\n')
		if err != nil {
			return nil, fmt.Errorf("QMP %s: %w", cmd, err)
		}
		var m struct {
			Return json.RawMessage `json:"return"`
			Error  *struct {
				Class, Desc string
			} `json:"error"`
			Event string `json:"event"`
			Data  struct {
				Device string `json:"device"`
			} `json:"data"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("QMP %s: %w in %q", cmd, err, line)
		}
		switch {
		case m.Event == "DEVICE_DELETED":
			if m.Data.Device != "" {
				select {
				case q.deleted <- m.Data.Device:
				default:
				}
			}
		case m.Event != "":
		case m.Error != nil:
			return nil, fmt.Errorf("QMP %s: %s: %s", cmd, m.Error.Class, m.Error.Desc)
		default:
			return m.Return, nil
		}
	}
}

func (q *qmp) must(cmd string, args any) {
	q.t.Helper()
	if _, err := q.do(cmd, args); err != nil {
		q.t.Fatal(err)
	}
}

// screendump writes the screen to path and decodes it.
func (q *qmp) screendump(path string) (image.Image, error) {
	if _, err := q.do("screendump", map[string]any{"filename": path, "format": "png"}); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("screendump: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("screendump %s: %w", path, err)
	}
	return img, nil
}

// absMax is the range of QEMU's absolute axes (INPUT_EVENT_ABS_MAX), which
// its usb-tablet reports as 0..32767.
const absMax = 0x7fff

// pointer sends the tablet to screen pixel p of a size screen, with the
// left button down or up.
func (q *qmp) pointer(p image.Point, size image.Point, down bool) {
	q.t.Helper()
	q.must("input-send-event", map[string]any{"events": append(absEvents(p, size),
		map[string]any{"type": "btn", "data": map[string]any{"button": "left", "down": down}})})
}

// move moves the tablet with the button held.
func (q *qmp) move(p image.Point, size image.Point) {
	q.t.Helper()
	q.must("input-send-event", map[string]any{"events": absEvents(p, size)})
}

// absEvents are the tablet's absolute axes for screen pixel p.
func absEvents(p image.Point, size image.Point) []any {
	abs := func(v, n int) int { return (v*absMax + (n-1)/2) / (n - 1) }
	return []any{
		map[string]any{"type": "abs", "data": map[string]any{"axis": "x", "value": abs(p.X, size.X)}},
		map[string]any{"type": "abs", "data": map[string]any{"axis": "y", "value": abs(p.Y, size.Y)}},
	}
}

// unplug removes a device and waits until QEMU says it is gone (the
// guest acknowledged the USB disconnect).
func (q *qmp) unplug(id string) {
	q.t.Helper()
	q.must("device_del", map[string]any{"id": id})
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case got := <-q.deleted:
			if got == id {
				return
			}
		case <-time.After(500 * time.Millisecond):
			q.must("query-status", nil) // reads the events that arrived
		case <-deadline:
			q.t.Fatalf("QEMU never deleted %s", id)
		}
	}
}
