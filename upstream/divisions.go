package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/nhikiosk/nhikiosk/divisions"
)

// Divisions is the administrative division list for the address pickers
// and the address check: every county or city, township or district and
// village with its official code (the Ministry of the Interior's) and its
// Chinese and English names. Version is the date the list took effect
// (YYYY-MM-DD); a kiosk keeps the newest it has seen.
type Divisions struct {
	Version  string   `json:"version"`
	Counties []County `json:"counties"`
}

// County is a county or special municipality (縣市).
type County struct {
	Code      string     `json:"code"`
	Name      string     `json:"name"`
	NameEn    string     `json:"name_en"`
	Townships []Township `json:"townships"`
}

// Township is a township or district (鄉鎮市區).
type Township struct {
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	NameEn   string    `json:"name_en"`
	Villages []Village `json:"villages"`
}

// Village is a village (村) or urban village (里).
type Village struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEn string `json:"name_en"`
}

// DivisionsOf returns l in the API's form.
func DivisionsOf(l divisions.List) Divisions {
	d := Divisions{Version: l.Version, Counties: make([]County, len(l.Counties))}
	for i, c := range l.Counties {
		d.Counties[i] = County{Code: c.Code, Name: c.Zh, NameEn: c.En, Townships: make([]Township, len(c.Children))}
		for j, t := range c.Children {
			vs := make([]Village, len(t.Children))
			for k, v := range t.Children {
				vs[k] = Village{Code: v.Code, Name: v.Zh, NameEn: v.En}
			}
			d.Counties[i].Townships[j] = Township{Code: t.Code, Name: t.Zh, NameEn: t.En, Villages: vs}
		}
	}
	return d
}

// List returns d as a divisions.List.
func (d Divisions) List() divisions.List {
	l := divisions.List{Version: d.Version, Counties: make([]divisions.Division, len(d.Counties))}
	for i, c := range d.Counties {
		cd := divisions.Division{Code: c.Code, Zh: c.Name, En: c.NameEn, Children: make([]divisions.Division, len(c.Townships))}
		for j, t := range c.Townships {
			td := divisions.Division{Code: t.Code, Zh: t.Name, En: t.NameEn, Children: make([]divisions.Division, len(t.Villages))}
			for k, v := range t.Villages {
				td.Children[k] = divisions.Division{Code: v.Code, Zh: v.Name, En: v.NameEn}
			}
			cd.Children[j] = td
		}
		l.Counties[i] = cd
	}
	return l
}

// Check reports whether d is a list a kiosk can use: a version, at least
// one county, and every division with a code and a Chinese name, and
// something under every county and township.
func (d Divisions) Check() error {
	if d.Version == "" || len(d.Counties) == 0 {
		return errors.New("division list without version or counties")
	}
	for _, c := range d.Counties {
		if c.Code == "" || c.Name == "" || len(c.Townships) == 0 {
			return fmt.Errorf("division list: county %q incomplete", c.Code)
		}
		for _, t := range c.Townships {
			if t.Code == "" || t.Name == "" || len(t.Villages) == 0 {
				return fmt.Errorf("division list: township %q incomplete", t.Code)
			}
			for _, v := range t.Villages {
				if v.Code == "" || v.Name == "" {
					return fmt.Errorf("division list: a village of %q incomplete", t.Code)
				}
			}
		}
	}
	return nil
}

// ErrNotModified is Divisions' answer when the upstream's list is still
// the one the caller holds (304 on its ETag).
var ErrNotModified = errors.New("upstream: not modified")

// Divisions fetches the division list. etag is the ETag of the list the
// caller holds, or "": when the upstream's list is still that one it
// answers 304 and Divisions returns ErrNotModified. tag is the ETag of
// the list returned. Retries as every read does.
func (c *Client) Divisions(ctx context.Context, etag string) (d Divisions, tag string, err error) {
	err = c.retry(ctx, http.MethodGet, PathDivisions, c.attempts, func() (bool, error) {
		var retry bool
		d, tag, retry, err = c.divisionsOnce(ctx, etag)
		return retry, err
	})
	return d, tag, err
}

func (c *Client) divisionsOnce(ctx context.Context, etag string) (d Divisions, tag string, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathDivisions, nil)
	if err != nil {
		return d, "", false, fmt.Errorf("GET %s: %w", PathDivisions, err)
	}
	req.Header.Set("Accept", ContentJSON)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return d, "", ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return d, etag, false, ErrNotModified
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return d, "", true, fmt.Errorf("read answer: %w", err)
	}
	if err := ParseAnswer(resp.StatusCode, b, &d); err != nil {
		var e *Error
		return d, "", errors.As(err, &e) && e.Status >= 500, err
	}
	if err := d.Check(); err != nil {
		return Divisions{}, "", false, err
	}
	return d, resp.Header.Get("ETag"), false, nil
}
