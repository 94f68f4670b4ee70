package speech_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/sound"
	"github.com/nhikiosk/nhikiosk/sound/soundtest"
	"github.com/nhikiosk/nhikiosk/speech"
	"github.com/nhikiosk/nhikiosk/speech/voice"
)

func TestSegments(t *testing.T) {
	tests := []struct {
		text string
		want []speech.Segment
	}{
		{"Step {n} of {total}", []speech.Segment{{Text: "Step "}, {Placeholder: "n"}, {Text: " of "}, {Placeholder: "total"}}},
		{"第 {n} 步，共 {total} 步", []speech.Segment{{Text: "第 "}, {Placeholder: "n"}, {Text: " 步，共 "}, {Placeholder: "total"}, {Text: " 步"}}},
		{"{s} 秒", []speech.Segment{{Placeholder: "s"}, {Text: " 秒"}}},
		{"{label}: {value}", []speech.Segment{{Placeholder: "label"}, {Placeholder: "value"}}},
		{"Done", []speech.Segment{{Text: "Done"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, speech.Segments(tt.text)); diff != "" {
			t.Errorf("Segments(%q) (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestHashFollowsText(t *testing.T) {
	a := speech.Entry{Lang: "en", ID: "x", Text: "Insert your card", Voice: "en"}
	b := a
	b.Text = "Insert your NHI card"
	if a.Hash("s") == b.Hash("s") || a.Hash("s") == a.Hash("t") || a.Hash("s") != a.Hash("s") {
		t.Error("the hash does not follow the text and the settings")
	}
}

func renderer(t *testing.T) *speech.Renderer {
	cat := display.NewCatalog()
	cat.Add("en", "t.step", "Step {n} of {total}")
	cat.Add("en", "t.pair", "{label}: {value}")
	cat.Add("en", "t.label", "Card number")
	r, err := speech.NewRenderer(cat)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRender(t *testing.T) {
	r := renderer(t)
	c := func(lang, id string) speech.Clip { return speech.Clip{Lang: lang, ID: id} }
	tests := []struct {
		name string
		msgs []display.Msg
		want []speech.Clip
	}{
		{"numbers between static parts", []display.Msg{display.M("t.step", "n", 3, "total", 7)},
			[]speech.Clip{c("en", "t.step~0"), c("en", "_num.3"), c("en", "t.step~1"), c("en", "_num.7")}},
		{"a message as a value, then spelled digits and a capital",
			[]display.Msg{display.M("t.pair", "label", display.M("t.label"), "value", "A1")},
			[]speech.Clip{c("en", "t.label"), c("en", "_char.0041"), c("en", "_char.0031")}},
		{"a Chinese name in Mandarin pieces whatever the language", []display.Msg{display.Lit("測試")},
			[]speech.Clip{c("zh-TW", "_char.6E2C"), c("zh-TW", "_char.8A66")}},
		{"a big number spelled", []display.Msg{display.M("t.step", "n", 1234, "total", 0)},
			[]speech.Clip{c("en", "t.step~0"), c("en", "_char.0031"), c("en", "_char.0032"), c("en", "_char.0033"), c("en", "_char.0034"), c("en", "t.step~1"), c("en", "_num.0")}},
		{"a duration", []display.Msg{display.M("t.pair", "label", display.M("t.label"), "value", 299*time.Second)},
			[]speech.Clip{c("en", "t.label"), c("en", "_num.4"), c("en", "speech.minutes~0"), c("en", "_num.59"), c("en", "speech.minutes~1")}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, r.Render("en", tt.msgs...)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSpeakerInterrupts(t *testing.T) {
	lib, err := speech.OpenLibrary(voice.FS)
	if err != nil {
		t.Fatal(err)
	}
	dev := &soundtest.Device{}
	r := renderer(t)
	s := speech.NewSpeaker(speech.Options{Open: func() (sound.Device, error) { return dev, nil }, Library: lib, Renderer: r, Volume: 100})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	written := dev.Written()
	long := display.M("display.say.keyboard") // about 5 s of speech
	s.Say("en", long)
	<-written
	s.Say("en", display.M("btn.next"))
	deadline := time.After(10 * time.Second)
	for dev.Drops() == 0 {
		select {
		case <-written:
		case <-deadline:
			t.Fatal("the first utterance was never dropped")
		}
	}
	time.Sleep(200 * time.Millisecond) // "Next" is short
	cancel()
	<-done
	got := len(dev.Frames()) / 2 / 48 // ms at 48 kHz stereo
	full := lib.Duration(speech.Clip{Lang: "en", ID: "display.say.keyboard"})
	if got >= full {
		t.Errorf("played %d ms; the %d ms sentence was not cut off", got, full)
	}
	if s.Latency() <= 0 {
		t.Error("no latency measured")
	}
	peak := 0
	for _, v := range dev.Frames() {
		peak = max(peak, int(v), -int(v))
	}
	if peak < 5000 {
		t.Errorf("peak %d: the clips played nearly silent", peak)
	}
	s.SetVolume(0)
	if s.Volume() != 0 || !slices.Contains([]sound.Volume{0}, s.Volume()) {
		t.Error("volume not set")
	}
}

// BenchmarkSayToFirstSamples is the speech's share of the latency from a
// key press to sound: Say, the first clip's first packets decoded, the
// first period handed to the device.
func BenchmarkSayToFirstSamples(b *testing.B) {
	lib, err := speech.OpenLibrary(voice.FS)
	if err != nil {
		b.Fatal(err)
	}
	cat := display.NewCatalog()
	r, _ := speech.NewRenderer(cat)
	dev := &soundtest.Device{}
	s := speech.NewSpeaker(speech.Options{Open: func() (sound.Device, error) { return dev, nil }, Library: lib, Renderer: r})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)
	written := dev.Written()
	var total time.Duration
	for b.Loop() {
		s.Say("en", display.M("display.say.button"))
		<-written
		total += s.Latency()
		s.Stop()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/first-samples")
}
