package decode_test

import (
	"os"
	"testing"

	"github.com/snaptool/snaptool/internal/fuzzopt"
)

// TestMain sets the fuzzing defaults for whole-snapshot inputs (see
// internal/fuzzopt: a new interesting input is minimized at most 100
// times, not for a minute).
func TestMain(m *testing.M) { os.Exit(fuzzopt.Main(m)) }
