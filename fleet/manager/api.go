package manager

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// API page sizes (issue 14: the kiosk list was 11.7 MB at 10,000 kiosks).
const (
	DefaultPage = 100
	MaxPage     = 1000
)

// KioskList is one page of GET /api/v1/kiosks.
type KioskList struct {
	Kiosks []Kiosk `json:"kiosks"`
	// Next is the value of ?after= for the next page; "" on the last.
	Next  string `json:"next,omitempty"`
	Total int    `json:"total"`
}

// AlertList is GET /api/v1/alerts.
type AlertList struct {
	Alerts []Alert `json:"alerts"`
	Total  int     `json:"total"`
}

func (w *Web) apiRoutes() {
	w.route("GET /api/v1/summary", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		writeJSON(rw, http.StatusOK, w.m.SummaryFor(u))
	})
	w.route("GET /api/v1/kiosks", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		q := r.URL.Query()
		f := filterFrom(q)
		f.Sites = u.Sites
		page, next, total := w.m.KioskPage(f, q.Get("after"), pageSize(q.Get("limit")))
		writeJSON(rw, http.StatusOK, KioskList{Kiosks: page, Next: next, Total: total})
	})
	w.route("GET /api/v1/kiosks/{site}/{kiosk}", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		name := r.PathValue("site") + "/" + r.PathValue("kiosk")
		k, ok := w.m.Kiosk(name)
		if !ok || !u.MaySee(k.Ref.Site) {
			writeJSON(rw, http.StatusNotFound, apiError{"no such kiosk"})
			return
		}
		evs, _ := w.m.Events(name, time.Now().Add(-24*time.Hour), 100)
		cmds, _ := w.m.Commands(name, 30)
		writeJSON(rw, http.StatusOK, map[string]any{"kiosk": k, "events": evs, "commands": cmds})
	})
	w.route("POST /api/v1/kiosks/{site}/{kiosk}/commands", operator, w.apiSend)
	w.route("POST /api/v1/kiosks/{site}/{kiosk}/enroll", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		c, err := w.m.Enroll(ctx, u, r.PathValue("site")+"/"+r.PathValue("kiosk"))
		if err != nil {
			writeJSON(rw, statusFor(err), apiError{err.Error()})
			return
		}
		writeJSON(rw, http.StatusOK, c)
	})
	w.route("POST /api/v1/enroll", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Kiosks []string `json:"kiosks"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(rw, http.StatusBadRequest, apiError{`want {"kiosks":["site/kiosk",…]}`})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
		defer cancel()
		cs, err := w.m.EnrollMany(ctx, u, req.Kiosks)
		if err != nil {
			writeJSON(rw, statusFor(err), apiError{err.Error()})
			return
		}
		writeJSON(rw, http.StatusOK, map[string]any{"credentials": cs})
	})
	w.route("POST /api/v1/kiosks/{site}/{kiosk}/revoke", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
		defer cancel()
		if err := w.m.Revoke(ctx, u, r.PathValue("site")+"/"+r.PathValue("kiosk")); err != nil {
			writeJSON(rw, statusFor(err), apiError{err.Error()})
			return
		}
		writeJSON(rw, http.StatusOK, map[string]string{"status": "revoked"})
	})
	w.route("GET /api/v1/commands/{id}", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		rec, ok, err := w.m.Command(r.PathValue("id"))
		if site, _, _ := strings.Cut(rec.Kiosk, "/"); err != nil || !ok || !u.MaySee(site) {
			writeJSON(rw, http.StatusNotFound, apiError{"no such command"})
			return
		}
		writeJSON(rw, http.StatusOK, rec)
	})
	w.route("GET /api/v1/alerts", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		as, total := w.m.AlertsFor(u, pageSize(r.URL.Query().Get("limit")))
		writeJSON(rw, http.StatusOK, AlertList{Alerts: as, Total: total})
	})
	w.route("POST /api/v1/alerts/ack", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Kiosk string    `json:"kiosk"`
			Kind  AlertKind `json:"kind"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(rw, http.StatusBadRequest, apiError{"want {\"kiosk\":…,\"kind\":…}"})
			return
		}
		if err := w.m.AckAlert(u, req.Kiosk, req.Kind); err != nil {
			writeJSON(rw, statusFor(err), apiError{err.Error()})
			return
		}
		writeJSON(rw, http.StatusOK, map[string]string{"status": "acknowledged"})
	})
	w.route("GET /api/v1/audit", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		a, _ := w.m.AuditFor(u, pageSize(r.URL.Query().Get("limit")))
		writeJSON(rw, http.StatusOK, a)
	})
}

// pageSize parses ?limit=: DefaultPage when absent, at most MaxPage.
func pageSize(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return DefaultPage
	}
	return min(n, MaxPage)
}

type apiError struct {
	Error string `json:"error"`
}

func statusFor(err error) int {
	switch {
	case errors.Is(err, ErrNotOperator), errors.Is(err, ErrNotAdmin), errors.Is(err, ErrNotYourSite):
		return http.StatusForbidden
	case errors.Is(err, errUnknownKiosk):
		return http.StatusNotFound
	case errors.Is(err, ErrLastAdmin):
		return http.StatusConflict
	case errors.Is(err, ErrNoCredentials):
		return http.StatusNotImplemented
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadRequest
}

func (w *Web) apiSend(rw http.ResponseWriter, r *http.Request, u User) {
	var req struct {
		Name     fleet.CommandName `json:"name"`
		Language string            `json:"language"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{"want {\"name\":…}"})
		return
	}
	name := r.PathValue("site") + "/" + r.PathValue("kiosk")
	if _, ok := w.m.Kiosk(name); !ok {
		writeJSON(rw, http.StatusNotFound, apiError{"no such kiosk"})
		return
	}
	rec, err := w.m.Send(u, name, req.Name, req.Language)
	if err != nil {
		writeJSON(rw, statusFor(err), apiError{err.Error()})
		return
	}
	writeJSON(rw, http.StatusAccepted, rec)
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	enc := json.NewEncoder(rw)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
