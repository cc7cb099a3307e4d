package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// progressBar is the bar `flux diff --progress-bar` draws on stderr while
// it dry-runs the objects, redrawn in place; it is only drawn on a
// terminal, so piped and captured output never holds it. A nil bar draws
// nothing.
type progressBar struct {
	w           io.Writer
	done, total int
	width       int
	drawn       bool
}

// newProgressBar returns the bar for total objects, or nil when disabled
// or when f.Err is not a terminal.
func newProgressBar(f *Factory, enabled bool, total int) *progressBar {
	if !enabled || total == 0 {
		return nil
	}
	file, ok := f.Err.(*os.File)
	if !ok || !term.IsTerminal(int(file.Fd())) {
		return nil
	}
	return &progressBar{w: f.Err, total: total, width: 30}
}

// step counts one more object and redraws the bar.
func (p *progressBar) step() {
	if p == nil {
		return
	}
	p.done++
	filled := p.width * p.done / p.total
	fmt.Fprintf(p.w, "\r◎ diffing [%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", p.width-filled), p.done, p.total)
	p.drawn = true
}

// clear erases the bar, before a line of output or at the end.
func (p *progressBar) clear() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
	p.drawn = false
}
