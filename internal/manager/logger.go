package manager

import (
	"fmt"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// NewLogger builds the structured logger --log-encoding and --log-level ask for.
func NewLogger(opts Options) (logr.Logger, error) {
	levels := map[string]zapcore.Level{"trace": -2, "debug": zapcore.DebugLevel, "info": zapcore.InfoLevel, "error": zapcore.ErrorLevel}
	level, ok := levels[opts.LogLevel]
	if !ok {
		return logr.Discard(), fmt.Errorf("--log-level must be debug, info or error, not %q", opts.LogLevel)
	}
	iso8601 := func(c *zapcore.EncoderConfig) { c.EncodeTime = zapcore.ISO8601TimeEncoder }
	encoder := zap.JSONEncoder(iso8601)
	if opts.LogEncoding == "console" {
		encoder = zap.ConsoleEncoder(iso8601)
	}
	return zap.New(zap.Level(level), encoder), nil
}
