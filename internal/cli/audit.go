package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// AuditArg, as pvc-guard-rollback's first argument, makes it run
// `pvc-guard audit` with the rest. No release can be named so (release
// names are DNS labels), so it never shadows `pvc-guard-rollback RELEASE`.
const AuditArg = "--audit"

// ExitCode is an exit code a command chose after saying why itself, such
// as audit's verdict for CI: ExecuteCommand exits with it and prints nothing.
type ExitCode = exitCodeError

// NewAuditDispatchCommand builds `pvc-guard audit`, which runs
// pvc-guard-rollback: the audit decodes Helm's release records and builds
// Helm's patches with Helm's SDK and client-go's scheme, which the
// post-renderer must not link.
func NewAuditDispatchCommand(streams Streams) *cobra.Command {
	o := &RollbackDispatchOptions{Streams: streams,
		Needs: "pvc-guard audit runs inside " + rollbackBinary + " (as " + rollbackBinary + " " + AuditArg +
			", which reads Helm's release records with Helm's SDK)"}
	cmd := &cobra.Command{
		Use:   "audit [RELEASE]",
		Short: "Tell which rollbacks and upgrades the API server would refuse, with and without pvc-guard",
		Long: `Predict, for each stored revision of each release, whether stock "helm
rollback" to it would be refused and whether "pvc-guard rollback" would
succeed, by dry runs on the API server; nothing is written.

This command runs ` + rollbackBinary + ` ` + AuditArg + `, which links Helm's SDK: the
one next to pvc-guard, else the one on $PATH. Its --help lists every flag.`,
		Example:            "  pvc-guard audit -n monitoring\n  pvc-guard audit -A -o json",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = append([]string{AuditArg}, args...)
			return o.Execute(cmd)
		},
	}
	cmd.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		o.Args = []string{AuditArg, "--help"}
		if err := o.Execute(cmd); err != nil {
			fmt.Fprintf(o.ErrOut, "Error: %v\n", err)
		}
	})
	return cmd
}
