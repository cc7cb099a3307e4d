package cli

import (
	"fmt"
	"io"
	"strings"
)

// diffContext is how many unchanged lines surround each hunk.
const diffContext = 3

// diffLine is one line of an edit script: ' ' kept, '-' removed, '+' added.
type diffLine struct {
	op   byte
	text string
}

// unifiedDiff writes the unified diff of a and b, labelled from and to; it
// writes nothing when they are equal.
func unifiedDiff(w io.Writer, from, to, a, b string) {
	script := editScript(splitLines(a), splitLines(b))
	// aLine[i] and bLine[i] are the 1-based line numbers before script[i].
	aLine, bLine := make([]int, len(script)+1), make([]int, len(script)+1)
	aLine[0], bLine[0] = 1, 1
	for i, l := range script {
		aLine[i+1], bLine[i+1] = aLine[i], bLine[i]
		if l.op != '+' {
			aLine[i+1]++
		}
		if l.op != '-' {
			bLine[i+1]++
		}
	}
	header := false
	for i := 0; i < len(script); {
		if script[i].op == ' ' {
			i++
			continue
		}
		start := max(0, i-diffContext)
		end := i
		// Extend the hunk while the next change is close enough.
		for j := i; j < len(script); j++ {
			if script[j].op != ' ' {
				end = j + 1
			} else if j-end >= 2*diffContext {
				break
			}
		}
		end = min(len(script), end+diffContext)
		if !header {
			fmt.Fprintf(w, "--- %s\n+++ %s\n", from, to)
			header = true
		}
		fmt.Fprintf(w, "@@ -%s +%s @@\n", hunkRange(aLine[start], aLine[end]-aLine[start]),
			hunkRange(bLine[start], bLine[end]-bLine[start]))
		for _, l := range script[start:end] {
			fmt.Fprintf(w, "%c%s\n", l.op, l.text)
		}
		i = end
	}
}

// hunkRange is the start,count of a hunk header; an empty range starts at
// the line before it, as diff -u writes it.
func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	if count == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, count)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// editScript turns a into b through a longest common subsequence of lines,
// removals before additions.
func editScript(a, b []string) []diffLine {
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			out = append(out, diffLine{' ', a[i]})
			i, j = i+1, j+1
		case j == len(b) || (i < len(a) && lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, diffLine{'-', a[i]})
			i++
		default:
			out = append(out, diffLine{'+', b[j]})
			j++
		}
	}
	return out
}
