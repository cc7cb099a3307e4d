package kinds

import "fmt"

// Size writes a byte count as the CLI and the UI show artifact sizes:
// "512 B", then KiB, MiB ... with one decimal ("1.5 MiB").
func Size(b int64) string {
	if b < 1024 {
		return fmt.Sprintf("%d B", b)
	}
	v, unit := float64(b)/1024, 0
	for v >= 1024 && unit < 5 {
		v /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[unit])
}
