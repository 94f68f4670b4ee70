package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// bindOptions are the flags of "nhisim bind".
type bindOptions struct {
	code, device, url, cert, key, ca string
	timeout                          time.Duration
}

func parseBind(args []string, stderr io.Writer) (bindOptions, error) {
	var o bindOptions
	fs := flag.NewFlagSet("nhisim bind", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nhisim bind CODE --device NAME [--url URL] [--cert F --key F --ca F]")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.device, "device", "", "the phone's name, shown at the kiosk (required)")
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the upstream (nhisim) base URL")
	fs.StringVar(&o.cert, "cert", "", "client certificate (PEM) for an https upstream")
	fs.StringVar(&o.key, "key", "", "client key (PEM)")
	fs.StringVar(&o.ca, "ca", "", "CA bundle (PEM) the upstream's certificate chains to")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Second, "bound on the request")
	// The code may come before or after the flags.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		o.code, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.code == "" && fs.NArg() == 1:
		o.code = fs.Arg(0)
	case fs.NArg() > 0:
		return o, fmt.Errorf("bind: unexpected arguments %q", fs.Args())
	}
	if o.code == "" || o.device == "" {
		fs.Usage()
		return o, errors.New("bind: the code and --device are required")
	}
	if (o.cert == "") != (o.key == "") {
		return o, errors.New("bind: --cert and --key go together")
	}
	return o, nil
}

// runBind plays the phone: it presents a binding code with a device name
// to the upstream (POST /v1/devices/bind) and prints the linked device.
func runBind(args []string, stdout, stderr io.Writer) error {
	o, err := parseBind(args, stderr)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: o.timeout}
	if o.cert != "" || o.ca != "" {
		if hc, err = upstream.HTTPClient(config.Upstream{URL: o.url, ClientCertFile: o.cert, ClientKeyFile: o.key,
			CAFile: o.ca, Timeout: config.Duration(o.timeout)}); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
	}
	c := upstream.New(upstream.Options{BaseURL: o.url, HTTPClient: hc})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	d, err := c.Bind(ctx, o.code, o.device)
	if err != nil {
		if code := upstream.Code(err); code != "" {
			return fmt.Errorf("bind refused: %s (%w)", bindHint(code), err)
		}
		return fmt.Errorf("bind: %w", err)
	}
	fmt.Fprintf(stdout, "linked: %s (device %s, at %s)\n", d.Name, d.DeviceID, d.LinkedAt.Format(time.RFC3339))
	return nil
}

func bindHint(code string) string {
	switch code {
	case upstream.ErrCodeWrongCode:
		return "no binding has this code"
	case upstream.ErrCodeCodeUsed:
		return "this code has already linked a device"
	case upstream.ErrCodeExpired:
		return "the code has expired; start a new binding at the kiosk"
	case upstream.ErrCodeInvalid:
		return "the code has 8 digits and the device a name of at most 40 characters"
	}
	return code
}
