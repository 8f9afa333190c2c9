package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// NewRulesCommand builds `pvc-guard rules`, which prints the rule table the
// renderer applies.
func NewRulesCommand(streams Streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the immutable-field rules pvc-guard applies",
		Long: `List every field pvc-guard reconciles with the live claim, the policy it
applies, and why Kubernetes refuses a change to it.`,
		Example: `  pvc-guard rules
  pvc-guard rules -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return printRules(streams.Out, output, renderer.DefaultRules)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}

func printRules(out io.Writer, format string, rules []renderer.Rule) error {
	switch format {
	case "table":
		w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "NAME\tFIELD\tPOLICY\tREASON")
		for _, r := range rules {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Name, r.FieldPath(), r.Policy, r.Reason)
		}
		return w.Flush()
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rules)
	case "yaml":
		data, err := yaml.Marshal(rules)
		if err != nil {
			return fmt.Errorf("encoding rules: %w", err)
		}
		_, err = out.Write(data)
		return err
	}
	return fmt.Errorf("--output must be one of table, json, yaml; not %q", strings.TrimSpace(format))
}
