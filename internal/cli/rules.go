package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// RulesOptions are the options of `pvc-guard rules`.
type RulesOptions struct {
	Streams
	Output    string
	RuleFiles []string
}

// NewRulesCommand builds `pvc-guard rules`, which prints the rules the
// renderer applies.
func NewRulesCommand(streams Streams) *cobra.Command {
	o := &RulesOptions{Streams: streams, Output: "table"}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the immutable-field rules pvc-guard applies",
		Long: `List every field pvc-guard reconciles with the live object: the kind, the
field, the policy it applies, and why Kubernetes refuses a change to it.

With -o yaml the rule sets are printed as documents in the format --rules
reads: copy an entry into a file of your own to add a rule (a custom
resource whose operator refuses changes, say). Built-in sets other than the
default are named builtin:NAME (builtin:workloads).`,
		Example: `  pvc-guard rules
  pvc-guard rules --rules builtin:workloads
  pvc-guard rules -o yaml > my-rules.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", o.Output, "output format: table, json or yaml")
	AddRulesFlag(cmd.Flags(), &o.RuleFiles)
	return cmd
}

// Validate rejects an output format pvc-guard does not print.
func (o *RulesOptions) Validate() error {
	switch o.Output {
	case "table", "json", "yaml":
		return nil
	}
	return fmt.Errorf("--output must be one of table, json, yaml; not %q", o.Output)
}

// Run prints the default rule set and the --rules ones.
func (o *RulesOptions) Run() error {
	sets, err := renderer.LoadRuleSets(o.RuleFiles)
	if err != nil {
		return err
	}
	return printRules(o.Out, o.Output, sets)
}

func printRules(out io.Writer, format string, sets []*renderer.RuleSet) error {
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(sets)
	case "yaml":
		for i, set := range sets {
			doc := set.Document()
			if i > 0 && !bytes.HasPrefix(doc, []byte("---")) {
				doc = append([]byte("---\n"), doc...)
			}
			if _, err := out.Write(doc); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tKIND\tFIELD\tPOLICY\tREASON")
	for _, set := range sets {
		for _, r := range set.Rules {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Resource, tableFields(&r), r.Policy, r.Reason)
		}
	}
	return w.Flush()
}

// tableFieldsShown is how many of a rule's paths the table names; a rule
// over every volume source has 22, which would push the other columns off
// any screen.
const tableFieldsShown = 3

// tableFields names a rule's fields for the table, the first few of many.
func tableFields(r *renderer.Rule) string {
	fields := r.Fields()
	if len(fields) <= tableFieldsShown {
		return r.FieldPaths()
	}
	var shown []string
	for _, f := range fields[:tableFieldsShown] {
		shown = append(shown, f.String())
	}
	return fmt.Sprintf("%s and %d more (-o yaml lists them)", strings.Join(shown, ", "), len(fields)-tableFieldsShown)
}
