package appliance

import "github.com/nhikiosk/nhikiosk/divisions"

// builtinDivisions is the division list of last resort, for a kiosk that
// has never reached the upstream and keeps no newer copy of its list: the
// full list shipped with the code (package divisions: every village, with
// the official codes and English names), which nhisim serves by default.
func builtinDivisions() DivisionList { return DivisionList{List: divisions.Builtin()} }
