package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// RenderPluginOptions is `pvc-guard install-render-plugin`: Helm 4 takes
// only a postrenderer/v1 plugin as --post-renderer, and the CLI plugin,
// however it was installed, already has everything that plugin needs, its
// plugin.yaml and this binary. Copying them needs no second download.
type RenderPluginOptions struct {
	Streams

	// From the environment Helm gives its plugins.
	helmBin  string // HELM_BIN
	dataHome string // HELM_DATA_HOME: helm plugin install writes to its plugins/
	cliDir   string // HELM_PLUGIN_DIR: the CLI plugin's own directory

	executable string
}

// NewRenderPluginCommand builds `pvc-guard install-render-plugin`.
func NewRenderPluginCommand(streams Streams) *cobra.Command {
	o := &RenderPluginOptions{Streams: streams}
	return &cobra.Command{
		Use:   "install-render-plugin",
		Short: "Install Helm 4's pvc-guard-render post-renderer plugin from this plugin",
		Long: `Helm 4 accepts only a plugin of type postrenderer/v1 as --post-renderer.
"helm pvc-guard install-render-plugin" installs one, pvc-guard-render, into
Helm's plugin directory ($HELM_DATA_HOME/plugins, as "helm plugin install"
does) from this plugin's own binary, replacing an older pvc-guard-render.
Run it again after "helm plugin update pvc-guard".

Helm 4 only: Helm 3 rejects the postrenderer/v1 format and then loads no
plugin at all, so never let a Helm 3 read the directory it writes to (give
Helm 4 its own HELM_DATA_HOME). Helm 3 runs pvc-guard itself as
--post-renderer.`,
		Example: `  helm pvc-guard install-render-plugin
  helm upgrade grafana grafana/grafana --post-renderer pvc-guard-render \
    --post-renderer-args=--namespace=monitoring`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(cmd.Context()); err != nil {
				return err
			}
			return o.Run()
		},
	}
}

// Complete reads the plugin environment Helm sets and finds this binary.
func (o *RenderPluginOptions) Complete() error {
	o.helmBin = os.Getenv("HELM_BIN")
	o.dataHome = os.Getenv("HELM_DATA_HOME")
	o.cliDir = os.Getenv("HELM_PLUGIN_DIR")
	executable, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the pvc-guard binary to copy: %w", err)
	}
	if o.executable, err = filepath.EvalSymlinks(executable); err != nil {
		return fmt.Errorf("finding the pvc-guard binary to copy: %w", err)
	}
	return nil
}

// Validate refuses to run outside Helm or under Helm 3.
func (o *RenderPluginOptions) Validate(ctx context.Context) error {
	if o.helmBin == "" || o.dataHome == "" || o.cliDir == "" {
		return errors.New("run this through Helm 4, as `helm pvc-guard install-render-plugin`: " +
			"it needs HELM_BIN, HELM_DATA_HOME and HELM_PLUGIN_DIR, which Helm sets for its plugins")
	}
	major, err := (&HelmRunOptions{helmBin: o.helmBin}).helmMajorVersion(ctx)
	if err != nil {
		return err
	}
	if major != "v4" {
		return fmt.Errorf("%s is Helm 3, which rejects the %s plugin's format and then loads no plugin at all; "+
			"Helm 3 needs no plugin for it: helm pvc-guard upgrade|install runs pvc-guard as --post-renderer", o.helmBin, renderPluginName)
	}
	return nil
}

// Run assembles the plugin beside Helm's plugin directory and renames it
// into place, so Helm never loads half a plugin, or two of the same name.
func (o *RenderPluginOptions) Run() error {
	manifest := filepath.Join(o.cliDir, "plugins", renderPluginName, "plugin.yaml")
	pluginsDir := filepath.Join(o.dataHome, "plugins")
	target := filepath.Join(pluginsDir, renderPluginName)
	if err := os.MkdirAll(pluginsDir, 0o755); err != nil {
		return fmt.Errorf("creating Helm's plugin directory: %w", err)
	}
	stage, err := os.MkdirTemp(o.dataHome, "."+renderPluginName+"-")
	if err != nil {
		return fmt.Errorf("creating a staging directory: %w", err)
	}
	defer os.RemoveAll(stage)
	if err := os.Chmod(stage, 0o755); err != nil {
		return err
	}
	if err := copyFile(manifest, filepath.Join(stage, "plugin.yaml"), 0o644); err != nil {
		return fmt.Errorf("copying the %s plugin.yaml shipped with this plugin: %w", renderPluginName, err)
	}
	if err := os.Mkdir(filepath.Join(stage, "bin"), 0o755); err != nil {
		return err
	}
	if err := copyFile(o.executable, filepath.Join(stage, "bin", "pvc-guard"), 0o755); err != nil {
		return fmt.Errorf("copying %s: %w", o.executable, err)
	}
	// An older pvc-guard-render, copied or linked to a checkout: Remove
	// deletes a link, never what it points to.
	if err := os.RemoveAll(target); err != nil {
		return fmt.Errorf("removing the old %s: %w", target, err)
	}
	if err := os.Rename(stage, target); err != nil {
		return fmt.Errorf("installing %s: %w", target, err)
	}
	fmt.Fprintf(o.Out, "Installed plugin: %s (%s) in %s\nUse it as: helm upgrade|install ... --post-renderer %s --post-renderer-args=--namespace=NS\n",
		renderPluginName, Version, target, renderPluginName)
	return nil
}

// copyFile copies src to dst with mode.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
