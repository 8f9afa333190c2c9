package rollbackcmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pvc-guard/pvc-guard/audit"
)

// writeTable prints the audit grouped by release, one row per check:
//
//	RELEASE         CHECK        APPLY        STOCK HELM                 PVC-GUARD  BASIS
//	monitoring/app  rollback 1   client-side  fails: spec.volumeName [1] ok         dry-run
//	                upgrade (2)  client-side  ok                         ok         dry-run
//
// Errors and notes follow the table, numbered from the rows, then the
// fields pvc-guard preserved.
func writeTable(w io.Writer, result *audit.Result) error {
	if len(result.Releases) == 0 {
		_, err := fmt.Fprintln(w, "No releases found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RELEASE\tCHECK\tAPPLY\tSTOCK HELM\tPVC-GUARD\tBASIS")
	var details, preserved []string
	row := func(name, check string, c audit.Check) {
		stock := verdictCell(c.Stock, &details)
		guard := verdictCell(c.PvcGuard, &details)
		basis := c.Stock.Basis
		if c.PvcGuard.Basis == audit.Rules {
			basis = audit.Rules
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, check, c.ApplyMethod, stock, guard, basis)
	}
	for _, rel := range result.Releases {
		name := rel.Namespace + "/" + rel.Name
		for _, rev := range rel.Revisions {
			row(name, fmt.Sprintf("rollback %d", rev.Revision), rev.Check)
			name = ""
		}
		for _, drift := range rel.Drift {
			row(name, fmt.Sprintf("upgrade (%d)", rel.Revision), drift)
			name = ""
		}
		for _, p := range rel.Preserved {
			preserved = append(preserved, fmt.Sprintf("%s/%s: %s of %s %s is in the current manifest because pvc-guard preserved it; a stock client-side upgrade without pvc-guard would ask to clear it",
				rel.Namespace, rel.Name, p.Field, p.Kind, p.Name))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range append(details, preserved...) {
		if _, err := fmt.Fprintln(w, d); err != nil {
			return err
		}
	}
	return nil
}

// verdictCell is a verdict in a few words; its error goes to the notes
// under the table, referenced by number.
func verdictCell(v audit.Verdict, details *[]string) string {
	if v.OK {
		return "ok"
	}
	cell := "fails"
	if v.Unknown {
		cell = "unknown"
	}
	if len(v.Fields) > 0 {
		cell += ": " + strings.Join(v.Fields, ",")
	}
	msg := v.Error
	if v.Note != "" {
		msg += " (" + v.Note + ")"
	}
	*details = append(*details, fmt.Sprintf("[%d] %s", len(*details)+1, msg))
	return fmt.Sprintf("%s [%d]", cell, len(*details))
}
