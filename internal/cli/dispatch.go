package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// rollbackBinary is the program `pvc-guard rollback` runs, git-style.
// Rollback is Helm's own, through Helm's SDK, whose package initialisation
// alone would triple the start-up time of pvc-guard, which Helm starts for
// every upgrade as its post-renderer.
const rollbackBinary = "pvc-guard-rollback"

// RollbackDispatchOptions are the options of `pvc-guard rollback`.
type RollbackDispatchOptions struct {
	Streams
	Args []string // passed to pvc-guard-rollback untouched

	// Executable is this program (default: os.Executable); pvc-guard-rollback
	// is looked for next to it first, then on $PATH.
	Executable string
	// Needs says, in the words of the command the user ran, why it needs
	// pvc-guard-rollback, for the error when that is missing; empty means
	// pvc-guard rollback's.
	Needs string

	binary string
}

// NewRollbackDispatchCommand builds `pvc-guard rollback`, which runs
// pvc-guard-rollback with the same arguments: flags, help and errors are
// all its own, so none are parsed here. Only when it is missing does this
// command answer --help itself, saying where to get it.
func NewRollbackDispatchCommand(streams Streams) *cobra.Command {
	o := &RollbackDispatchOptions{Streams: streams}
	cmd := &cobra.Command{
		Use:   "rollback RELEASE [REVISION]",
		Short: "Roll a Helm release back without changing immutable claim fields",
		Long: `Roll a release back as "helm rollback" does, with the target revision's
manifest first rewritten against the live cluster, so that claims keep their
immutable fields. The flags are those of "helm rollback", plus --on-conflict.

This command runs ` + rollbackBinary + `, a binary of its own because it links Helm's
SDK: the one next to pvc-guard, else the one on $PATH. Its --help lists
every flag.`,
		Example:            "  pvc-guard rollback grafana 1 -n monitoring",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			return o.Execute(cmd)
		},
	}
	// `pvc-guard help rollback` shows the real help too.
	cmd.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		o.Args = []string{"--help"}
		if err := o.Execute(cmd); err != nil {
			fmt.Fprintf(o.ErrOut, "Error: %v\n", err)
		}
	})
	return cmd
}

// Execute completes and runs the options; asked for help without
// pvc-guard-rollback, it prints this command's help and where to get it.
func (o *RollbackDispatchOptions) Execute(cmd *cobra.Command) error {
	if err := o.Complete(); err != nil {
		if !wantsHelp(o.Args) {
			return err
		}
		if _, werr := fmt.Fprintf(o.Out, "%s\n\nUsage:\n  %s\n\nExamples:\n%s\n\nNot installed: %v\n", cmd.Long, cmd.UseLine(), cmd.Example, err); werr != nil {
			return werr
		}
		return nil
	}
	return o.Run()
}

// wantsHelp reports whether args ask for help, as pflag would read them.
func wantsHelp(args []string) bool {
	for _, arg := range args {
		switch arg {
		case "--":
			return false
		case "-h", "--help":
			return true
		}
	}
	return false
}

// Complete finds pvc-guard-rollback: next to this program, after resolving
// symbolic links (Helm plugin directories are links to a checkout or an
// unpacked tarball), else on $PATH.
func (o *RollbackDispatchOptions) Complete() error {
	dir, err := o.executableDir()
	if err == nil {
		if path, err := exec.LookPath(filepath.Join(dir, rollbackBinary)); err == nil {
			o.binary = path
			return nil
		}
	}
	if path, err := exec.LookPath(rollbackBinary); err == nil {
		o.binary = path
		return nil
	}
	nextTo := "in " + dir
	if err != nil {
		nextTo = err.Error()
	}
	needs := o.Needs
	if needs == "" {
		needs = "pvc-guard rollback runs " + rollbackBinary
	}
	return fmt.Errorf("%s, which is neither next to pvc-guard (%s) nor on $PATH: "+
		`build both with "make build" in a pvc-guard checkout, or install it with "go install github.com/pvc-guard/pvc-guard/cmd/%s@%s"`,
		needs, nextTo, rollbackBinary, installVersion())
}

func (o *RollbackDispatchOptions) executableDir() (string, error) {
	exe := o.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return "", err
		}
	}
	exe, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", err
	}
	return filepath.Dir(exe), nil
}

// installVersion is the version to `go install`: this build's when it is a
// release (v1.2.3), else the latest.
func installVersion() string {
	if version := GetBuildInfo().Version; strings.HasPrefix(version, "v") && !strings.Contains(version, "-") {
		return version
	}
	return "latest"
}

// Run runs pvc-guard-rollback with the arguments and standard streams. When
// the streams are this process's own, it replaces this process where the
// system can, so that the exit code, signals and the terminal are simply
// the rollback's; otherwise it runs it as a child and passes its exit code
// on.
func (o *RollbackDispatchOptions) Run() error {
	if o.In == os.Stdin && o.Out == os.Stdout && o.ErrOut == os.Stderr {
		err := replaceProcess(o.binary, append([]string{o.binary}, o.Args...))
		if !errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("running %s: %w", o.binary, err)
		}
	}
	return o.runChild()
}

// runChild runs pvc-guard-rollback as a child process and passes its exit
// code on.
func (o *RollbackDispatchOptions) runChild() error {
	cmd := exec.Command(o.binary, o.Args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.In, o.Out, o.ErrOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exitCodeError(max(exit.ExitCode(), 1)) // -1: killed by a signal
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", o.binary, err)
	}
	return nil
}

// exitCodeError is the exit code of a program pvc-guard ran in its place,
// which has said what went wrong itself.
type exitCodeError int

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
