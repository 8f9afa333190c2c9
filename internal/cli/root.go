// Package cli wires pvc-guard's commands: flags, help text and the
// Complete/Validate/Run steps of each command, in kubectl's style. The work
// itself lives in the renderer and live packages.
package cli

import (
	"context"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand(streams)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(streams.ErrOut, "Error: %v\n", err)
		return 1
	}
	return 0
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
		NewRollbackCommand(streams),
		NewHelmRunCommand(streams, "upgrade"),
		NewHelmRunCommand(streams, "install"),
		NewFluxPatchesCommand(streams),
		NewRulesCommand(streams),
		NewVersionCommand(streams),
	)
	return root
}
