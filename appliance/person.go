package appliance

import "log/slog"

// CardProfile is what the wizard keeps from the card: the fields the
// registration needs. The byte slices belong to the session that holds the
// profile and are zeroed by Wipe. It prints as "redacted" everywhere.
type CardProfile struct {
	CardNumber []byte
	IDNumber   []byte
	Name       []byte // UTF-8
	BirthDate  []byte // YYYY-MM-DD
}

// Wipe zeroes and drops every field.
func (p *CardProfile) Wipe() {
	zero(p.CardNumber)
	zero(p.IDNumber)
	zero(p.Name)
	zero(p.BirthDate)
	*p = CardProfile{}
}

// String keeps the profile out of fmt output.
func (CardProfile) String() string { return "CardProfile{redacted}" }

// GoString keeps the profile out of %#v.
func (CardProfile) GoString() string { return "CardProfile{redacted}" }

// LogValue keeps the profile out of slog output.
func (CardProfile) LogValue() slog.Value { return slog.StringValue("redacted") }

// person is everything one person brought or typed during one session. Only
// the session holds it; screens read it to draw and keep no copy.
type person struct {
	card   CardProfile
	fields map[FieldID][]byte
	// The household registration address, as division codes of the
	// division list (not copies of anything the person typed).
	county, township, village string
}

func newPerson() *person { return &person{fields: make(map[FieldID][]byte)} }

// value returns the current value of f as a string for checking or
// drawing. The copy is garbage once the caller returns.
func (p *person) value(f FieldID) string { return string(p.fields[f]) }

// set replaces f's value with a copy of v, in a buffer with room for the
// longest value f takes (so typing never reallocates), zeroing the old.
func (p *person) set(f FieldID, v string) {
	zero(p.fields[f])
	p.fields[f] = append(make([]byte, 0, fieldSpecs[f].max), v...)
}

// drop zeroes and forgets what fs hold.
func (p *person) drop(fs ...FieldID) {
	for _, f := range fs {
		zero(p.fields[f])
		delete(p.fields, f)
	}
}

// forget zeroes and drops what the person typed and picked, keeping the
// card's data: they go back to the menu.
func (p *person) forget() {
	for k, b := range p.fields {
		zero(b)
		delete(p.fields, k)
	}
	p.county, p.township, p.village = "", "", ""
}

// wipe zeroes every byte slice the person owns and drops the references.
func (p *person) wipe() {
	p.card.Wipe()
	p.forget()
}

// String keeps a person out of fmt output.
func (*person) String() string { return "person{redacted}" }

// LogValue keeps a person out of slog output.
func (*person) LogValue() slog.Value { return slog.StringValue("redacted") }

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// maskID shows an ID number as A12****789 on screen.
func maskID(id []byte) string {
	if len(id) < 7 {
		return "******"
	}
	return string(id[:3]) + "****" + string(id[len(id)-3:])
}
