// Package cli wires pvc-guard's commands: flags, help text and the
// Complete/Validate/Run steps of each command, in kubectl's style. The work
// itself lives in the renderer and live packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Streams are a command's standard input and outputs.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Execute runs the command line and returns the process exit code.
func Execute(args []string, streams Streams) int {
	return ExecuteCommand(NewRootCommand(streams), args, streams)
}

// ExecuteCommand runs cmd with args until done or interrupted and returns
// the process exit code: 1 after printing the error, or the exit code of
// the command pvc-guard ran in its place (which said why itself).
func ExecuteCommand(cmd *cobra.Command, args []string, streams Streams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	var exit exitCodeError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return int(exit)
	}
	fmt.Fprintf(streams.ErrOut, "Error: %v\n", err)
	return 1
}

// NewRootCommand builds `pvc-guard`. Without a subcommand it renders, so
// the binary itself is a Helm 3 post-renderer.
func NewRootCommand(streams Streams) *cobra.Command {
	render := NewRenderOptions(streams)
	root := &cobra.Command{
		Use:   "pvc-guard",
		Short: "Keep Helm from changing immutable PersistentVolumeClaim fields",
		Long: `pvc-guard is a Helm post-renderer. It reads the rendered manifests on stdin,
looks up each PersistentVolumeClaim in the live cluster, and writes the stream
back with every immutable field (volumeName, storageClassName, accessModes,
volumeMode, selector, data sources, limits, and a size that may not shrink)
agreeing with the live claim, so upgrades and rollbacks are not refused with
"spec is immutable after creation".

Without a subcommand pvc-guard runs "render".`,
		Example:       renderExamples,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return render.Execute(cmd.Context())
		},
	}
	render.AddFlags(root.Flags())
	root.AddCommand(
		NewRenderCommand(streams),
		NewRollbackDispatchCommand(streams),
		NewAuditDispatchCommand(streams),
		NewHelmRunCommand(streams, "upgrade"),
		NewHelmRunCommand(streams, "install"),
		NewFluxPatchesCommand(streams),
		NewRulesCommand(streams),
		NewVersionCommand(streams),
		NewRenderPluginCommand(streams),
	)
	return root
}
