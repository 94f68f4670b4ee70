package reader

import (
	"fmt"
	"testing"
)

func TestCatalogKey(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("read profile: %w", ErrCardRemoved), "card.error.removed"},
		{ErrNotNHICard, "card.error.not_nhi"},
		{fmt.Errorf("x: %w", fmt.Errorf("y: %w", ErrCardMute)), "card.error.mute"},
		{fmt.Errorf("something else"), "card.error.unknown"},
	}
	for _, tt := range tests {
		if got := CatalogKey(tt.err); got != tt.want {
			t.Errorf("CatalogKey(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
