package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=v1.2.3"
// (make build, the release tarballs). Builds without it, such as
// `go install github.com/pvc-guard/pvc-guard@v1.2.3`, report the module
// version Go recorded in the binary instead.
var Version = "dev"

// BuildInfo is what `pvc-guard version` reports, named as `kubectl version
// -o json` names its fields.
type BuildInfo struct {
	Version      string `json:"version"`
	GitCommit    string `json:"gitCommit,omitempty"`
	GitTreeState string `json:"gitTreeState,omitempty"`
	GoVersion    string `json:"goVersion"`
	Platform     string `json:"platform"`
}

// GetBuildInfo describes this binary.
func GetBuildInfo() BuildInfo {
	build, _ := debug.ReadBuildInfo()
	return buildInfo(Version, build)
}

// buildInfo is version when the build set it, else the main module's
// version from Go's build information, with its VCS stamp when Go recorded
// one (go build in a checkout; go install of a module version has none).
func buildInfo(version string, build *debug.BuildInfo) BuildInfo {
	info := BuildInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if build == nil {
		return info
	}
	if info.Version == "dev" && build.Main.Version != "" && build.Main.Version != "(devel)" {
		info.Version = build.Main.Version
	}
	for _, s := range build.Settings {
		switch s.Key {
		case "vcs.revision":
			info.GitCommit = s.Value
		case "vcs.modified":
			info.GitTreeState = map[string]string{"true": "dirty", "false": "clean"}[s.Value]
		}
	}
	return info
}

// VersionOptions are the options of `pvc-guard version`.
type VersionOptions struct {
	Streams
	Short  bool
	Output string
}

// NewVersionCommand builds `pvc-guard version`.
func NewVersionCommand(streams Streams) *cobra.Command {
	o := &VersionOptions{Streams: streams}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the pvc-guard version",
		Long: `Print the version of pvc-guard, with the commit, Go version and platform it
was built for when known. The version is the one the build set (make build,
release tarballs), else the module version "go install ...@VERSION" recorded.`,
		Example: `  pvc-guard version
  pvc-guard version --short
  pvc-guard version -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	cmd.Flags().BoolVar(&o.Short, "short", false, "print the version number only")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", `one of "json" or "yaml"`)
	cmd.MarkFlagsMutuallyExclusive("short", "output")
	return cmd
}

// Validate rejects an output format the command does not know.
func (o *VersionOptions) Validate() error {
	switch o.Output {
	case "", "json", "yaml":
		return nil
	}
	return fmt.Errorf(`--output must be "json" or "yaml", not %q`, o.Output)
}

// Run prints the build information in the chosen form.
func (o *VersionOptions) Run() error {
	info := GetBuildInfo()
	switch {
	case o.Short:
		_, err := fmt.Fprintln(o.Out, info.Version)
		return err
	case o.Output == "json":
		data, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return fmt.Errorf("encoding the version: %w", err)
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", data)
		return err
	case o.Output == "yaml":
		data, err := yaml.Marshal(info)
		if err != nil {
			return fmt.Errorf("encoding the version: %w", err)
		}
		_, err = o.Out.Write(data)
		return err
	}
	details := []string{info.GoVersion, info.Platform}
	if info.GitCommit != "" {
		details = append([]string{strings.TrimSpace("commit " + info.GitCommit + " " + info.GitTreeState)}, details...)
	}
	_, err := fmt.Fprintf(o.Out, "%s (%s)\n", info.Version, strings.Join(details, ", "))
	return err
}
