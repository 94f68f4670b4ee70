package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// errRestartRequested is why start returns after a restart command: the
// process exits non-zero and its supervisor (gokrazy, systemd) starts it
// again.
var errRestartRequested = errors.New("restart requested by the operator")

// fleetHandler carries out operator commands on the kiosk.
type fleetHandler struct{ kf *kioskFleet }

// SetMaintenance goes to the wizard, which lets a session finish first.
func (h fleetHandler) SetMaintenance(_ context.Context, on bool) error {
	h.kf.k.Post(appliance.Maintenance{On: on})
	return nil
}

// SetLanguage sets the wizard's default language.
func (h fleetHandler) SetLanguage(_ context.Context, lang string) error {
	h.kf.k.Post(appliance.DefaultLanguage{Lang: lang})
	return nil
}

// Restart makes start return (after the agent's ack has been sent).
func (h fleetHandler) Restart(context.Context) error {
	h.kf.log.Warn("restarting on the operator's command")
	h.kf.restart(errRestartRequested)
	return nil
}

// Reboot syncs and reboots the machine, on gokrazy only: elsewhere the
// kiosk is one program among others and rebooting is not its business.
func (h fleetHandler) Reboot(context.Context) error {
	if !h.kf.onGokrazy() {
		return fmt.Errorf("reboot: not running under gokrazy's init, the kiosk does not reboot this machine: %w", fleet.ErrUnsupported)
	}
	h.kf.log.Warn("rebooting on the operator's command")
	if err := h.kf.reboot(); err != nil {
		return fmt.Errorf("reboot: %w", err)
	}
	return nil
}

// ReloadConfig loads and validates config.json again. Invalid, it is
// refused and the running configuration kept; valid, the kiosk restarts
// onto it once the ack has left.
func (h fleetHandler) ReloadConfig(context.Context) error {
	kf := h.kf
	if kf.o.demo {
		return fmt.Errorf("reload_config: a -demo kiosk has no config.json: %w", fleet.ErrUnsupported)
	}
	if _, err := loadConfig(kf.o); err != nil {
		kf.countError(fleet.ErrKindConfig)
		kf.log.Warn("reload_config refused, keeping the running configuration", "err", err)
		return fmt.Errorf("reload_config: %w: %w", fleet.ErrInvalidConfig, err)
	}
	go func() {
		kf.drainAgent()
		kf.log.Info("restarting onto the reloaded configuration")
		kf.restart(errRestartRequested)
	}()
	return nil
}

// drainAgent waits (up to restartDrainMax) for the agent to send what it
// queued, such as the ack of the command that asked for a restart.
func (kf *kioskFleet) drainAgent() {
	deadline := time.Now().Add(restartDrainMax)
	time.Sleep(50 * time.Millisecond) // the ack is queued after the handler returns
	for time.Now().Before(deadline) {
		kf.mu.Lock()
		s := kf.sink
		kf.mu.Unlock()
		if s == nil || s.Stats().Queued == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SelfTest checks the reader, the display, upstream and the data disk, and
// says what failed in a token.
func (h fleetHandler) SelfTest(ctx context.Context) (fleet.SelfTest, error) {
	kf := h.kf
	var st fleet.SelfTest
	kf.mu.Lock()
	st.Reader = check(kf.readerOK, "no_reader")
	kf.mu.Unlock()
	if kf.screen != nil {
		ok, kind := kf.screen.presenting()
		st.Display = check(ok, kind)
	} else {
		st.Display = check(false, "no_screen")
	}
	st.Upstream = check(kf.probeUpstream(ctx), "unreachable")
	st.Disk = kf.checkDisk()
	return st, nil
}

func check(ok bool, kind fleet.Token) fleet.Check {
	if ok {
		return fleet.Check{OK: true}
	}
	return fleet.Check{Kind: kind}
}

// checkDisk writes a file on the data disk and checks its free space.
func (kf *kioskFleet) checkDisk() fleet.Check {
	if err := diskWritable(filepath.Join(kf.cfg.DataDir, "fleet")); err != nil {
		kf.log.Warn("self-test: data disk not writable", "err", err)
		return check(false, "not_writable")
	}
	free, pct, err := diskFree(kf.cfg.DataDir)
	if err != nil {
		return check(false, "statfs_failed")
	}
	return check(free >= minFreeBytes && pct >= minFreePct, "low_space")
}

// Screenshot returns the screen as PNG, refused while a person is in a
// session: the check and the copy happen together on the wizard's
// goroutine, so no session can begin between them.
func (h fleetHandler) Screenshot(ctx context.Context) ([]byte, error) {
	kf := h.kf
	if kf.screen == nil {
		return nil, fmt.Errorf("screenshot: no screen: %w", fleet.ErrUnsupported)
	}
	var img *image.RGBA
	var serr error
	err := kf.k.Query(ctx, func(st appliance.Status) {
		if st.InSession {
			serr = fmt.Errorf("screenshot: %w", fleet.ErrSessionActive)
			return
		}
		img = kf.screen.copyFrame()
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("screenshot: %w", err)
	case serr != nil:
		return nil, serr
	case img == nil:
		return nil, errors.New("screenshot: nothing presented yet")
	}
	return encodeShot(img, fleet.MaxScreenshot)
}

// onGokrazy reports whether the kiosk runs as a service of gokrazy's
// init: its parent is PID 1 and PID 1 is /gokrazy/init.
func onGokrazy() bool {
	if os.Getppid() != 1 {
		return false
	}
	exe, err := os.Readlink("/proc/1/exe")
	return err == nil && exe == "/gokrazy/init"
}
