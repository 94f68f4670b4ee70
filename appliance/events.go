package appliance

// Event is something that happened to the kiosk: a card came or went, the
// person touched the screen, time passed, or a job finished.
type Event interface{ isEvent() }

// CardInserted is a card placed in the reader.
type CardInserted struct{}

// CardRemoved is the card taken out of the reader.
type CardRemoved struct{}

// Tap is a tap on the widget with this id (see the ID constants and
// "field.<FieldID>", "county.<code>", …).
type Tap struct{ ID string }

// Key is a key of an on-screen keyboard typed into the focused field: one
// ASCII character, or KeyBackspace / KeyClear.
type Key struct{ Text string }

// SetField replaces a field's value with Value, which the machine takes
// over (it zeroes it when the session ends): the screens' text fields send
// it after each edit, with a copy of what the field holds.
type SetField struct {
	Field FieldID
	Value []byte
}

// ScrolledToEnd reports that the rules of the service were scrolled to
// their last line.
type ScrolledToEnd struct{}

// Tick is time passing; the runner sends one a few times a second and the
// machine reads its clock.
type Tick struct{}

// Maintenance turns maintenance mode on or off (from the fleet): with it
// on, the kiosk shows out-of-service as soon as no session is running.
type Maintenance struct{ On bool }

// DefaultLanguage sets the language the attract screen starts in (from the
// fleet); a session in progress keeps the language its person chose.
type DefaultLanguage struct{ Lang string }

// result is a finished job's result, applied only if the session that
// asked for it is still the current one ("" for kiosk-wide jobs) and, for
// a flow's job, that flow is still the session's current one.
type result struct {
	session string
	serial  int // of the flow that asked (0: the machine)
	apply   func(m *Machine) []Job
	// discard, if set, runs instead of apply when the result is dropped
	// (it wipes or releases what the job brought back).
	discard func()
}

func (CardInserted) isEvent()    {}
func (CardRemoved) isEvent()     {}
func (Tap) isEvent()             {}
func (Key) isEvent()             {}
func (ScrolledToEnd) isEvent()   {}
func (SetField) isEvent()        {}
func (Tick) isEvent()            {}
func (Maintenance) isEvent()     {}
func (DefaultLanguage) isEvent() {}
func (result) isEvent()          {}

// Special keys.
const (
	KeyBackspace = "backspace"
	KeyClear     = "clear"
)

// Widget ids the machine acts on, and those every flow uses. A flow's
// own are in its file. Fields are "field.<FieldID>".
const (
	IDLangZh   = "lang.zh-TW"
	IDLangEn   = "lang.en"
	IDContinue = "idle.continue"
	IDBack     = "back"
	IDNext     = "next"
	IDSubmit   = "submit"
	IDMenu     = "menu"
	IDFinish   = "finish"
	IDRetry    = "retry"
	IDHelp     = "help"
	IDCardHelp = "menu.help"
	// IDLogout logs out and ends the session (from the account's screens).
	IDLogout = "account.logout"
)
