package cli

import (
	"context"
	"fmt"

	"github.com/pvc-guard/pvc-guard/krm"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// runFunction answers a ResourceList on stdin as a KRM function (kustomize's
// and kpt's exec functions) instead of rendering a Helm stream. The command
// line gives the defaults, which the ResourceList's functionConfig
// overrides; the results replace the post-renderer's error messages.
func (o *RenderOptions) runFunction(ctx context.Context, in []byte, state renderer.LiveState, rules []*renderer.RuleSet) error {
	ctx, cancel := context.WithTimeout(ctx, o.RequestTimeout)
	defer cancel()
	fn := &krm.Function{Namespace: o.Namespace(), OnConflict: renderer.ConflictPolicy(o.OnConflict), Live: state, Rules: rules,
		KubeVersion: o.KubeVersion, Snapshot: len(o.LiveStateFiles) > 0}
	report, err := fn.Run(ctx, in, o.Out)
	if o.ReportFile != "" && report != nil {
		if err := writeJSON(o.ReportFile, report); err != nil {
			return err
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(o.ErrOut, report.Summary())
	return nil
}
