package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/driftless/driftless/internal/engine/envsubst"
)

// newEnvsubstCommand is `flux envsubst`: stdin to stdout through the
// post-build substitution, with the process environment as variables.
func newEnvsubstCommand(f *Factory) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "envsubst",
		Short: "Substitute ${var} expressions in stdin with environment variables, as Flux's post-build substitution does",
		Example: `  # Substitute the variables of a manifest
  export CLUSTER=prod
  flux envsubst < deploy.yaml

  # Fail when a variable without a default is not set
  flux envsubst --strict < deploy.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := io.ReadAll(f.In)
			if err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			out, err := envsubst.Substitute(string(in), environMap(os.Environ()), strict)
			if err != nil {
				return fmt.Errorf("%w (export the variable, or give it a default: ${var:=default})", err)
			}
			_, err = io.WriteString(f.Out, out)
			return err
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "fail when a variable without a default value is not set")
	return cmd
}

// environMap turns KEY=value pairs into a map, keeping only the names that
// substitution can refer to.
func environMap(environ []string) map[string]string {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && envsubst.ValidName(k) {
			vars[k] = v
		}
	}
	return vars
}
