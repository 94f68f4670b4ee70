// Command vminit is the init of the minimal Linux that sound/alsa's QEMU
// test boots: it mounts /dev, /sys and /proc, loads the sound modules
// listed in /modules/order, plays the "audio mode" clip of the embedded
// speech through alsa.Open, and powers the machine off. It prints
// "vminit: played" with the format on the serial console, or
// "vminit: error" and the error.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nhikiosk/nhikiosk/sound"
	"github.com/nhikiosk/nhikiosk/sound/alsa"
	"github.com/nhikiosk/nhikiosk/speech"
	"github.com/nhikiosk/nhikiosk/speech/voice"
)

func main() {
	if err := run(); err != nil {
		fmt.Println("vminit: error:", err)
	}
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

func run() error {
	for _, m := range []struct{ src, dst, typ string }{{"dev", "/dev", "devtmpfs"}, {"sys", "/sys", "sysfs"}, {"proc", "/proc", "proc"}} {
		os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.typ, 0, ""); err != nil {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	order, err := os.ReadFile("/modules/order")
	if err != nil {
		return err
	}
	for _, name := range strings.Fields(string(order)) {
		f, err := os.Open(filepath.Join("/modules", name))
		if err != nil {
			return err
		}
		params := ""
		if name == "snd-hda-intel.ko" {
			// Probe codec 0 even when the controller's reset did not
			// report it in time, as happens under emulation (0x100: the
			// low bits are fixed slots, not a mask).
			params = "probe_mask=0x101"
		}
		err = unix.FinitModule(int(f.Fd()), params, 0)
		f.Close()
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("load %s: %w", name, err)
		}
	}
	var dev sound.Device
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		// 400 ms of buffer: an emulated CPU is slow.
		if dev, err = alsa.Open(alsa.Options{Periods: 40}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return err
		}
	}
	defer dev.Close()
	lib, err := speech.OpenLibrary(voice.FS)
	if err != nil {
		return err
	}
	f := dev.Format()
	var buf []int16
	frames := 0
	start := time.Now()
	err = lib.Stream(speech.Clip{Lang: "en", ID: "audio.on"}, 48000, func(pcm []int16) bool {
		buf = sound.Convert(buf, pcm, 48000, f, 1)
		n, werr := dev.Write(buf)
		frames += n
		err = werr
		return werr == nil
	})
	if err != nil {
		return err
	}
	if err := dev.Drain(); err != nil {
		return err
	}
	fmt.Printf("vminit: played %d frames at %d Hz, %d channels, in %v\n", frames, f.Rate, f.Channels, time.Since(start).Round(time.Millisecond))
	return nil
}
