package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// maxFileSize bounds what file() reads: templates are small, and a mistaken
// path to a huge file (or a fuzzer's input) must not exhaust memory.
const maxFileSize = 4 << 20

// Load reads, parses, decodes and validates the config file at path, applying
// defaults to everything left out. env() reads the process environment;
// file() paths, storage.path and storage.encryption_key_file are relative to
// the directory holding path. Every problem is
// reported as a diagnostic with the file:line:col where it was found; the
// Config is nil whenever the diagnostics hold an error.
func Load(path string) (*Config, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "cannot read config file",
			Detail:   err.Error(),
		}}
	}
	return Parse(path, src, os.LookupEnv, filepath.Dir(path))
}

// Parse is Load without the file system for the config itself: src is the
// HCL text, filename is what diagnostics call it, env looks up variables for
// env() (nil: every variable is unset) and baseDir is where relative file()
// paths start ("" = the working directory). Tests and the fuzzer use it to
// stay independent of the real environment.
func Parse(filename string, src []byte, env func(string) (string, bool), baseDir string) (*Config, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.Pos{Line: 1, Column: 1, Byte: 0})
	if diags.HasErrors() {
		return nil, diags
	}
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	d := &decoder{
		ctx: &hcl.EvalContext{
			// No Variables on purpose: a config may only call these
			// functions, so HCL's diagnostics never print a secret that came
			// from the environment as a "variable value".
			Functions: map[string]function.Function{
				"env":  envFunc(env),
				"file": fileFunc(baseDir),
			},
		},
		diags:  diags,
		ranges: map[string]hcl.Range{},
	}
	cfg := Defaults()
	cfg.File = filename
	d.decodeRoot(file.Body, &cfg)
	d.resolvePaths(&cfg, baseDir)
	d.validate(&cfg)
	sortDiagnostics(d.diags)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	return &cfg, d.diags
}

// FormatDiagnostics renders diagnostics one per line as
// "file:line:col: summary: detail", the form editors and CI logs link to.
// Warnings get a "warning: " prefix; a diagnostic without a position (the
// config file could not be read) is "summary: detail".
func FormatDiagnostics(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, diag := range diags {
		if diag.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", diag.Subject.Filename, diag.Subject.Start.Line, diag.Subject.Start.Column)
		}
		if diag.Severity == hcl.DiagWarning {
			b.WriteString("warning: ")
		}
		b.WriteString(oneLine(diag.Summary))
		if diag.Detail != "" {
			b.WriteString(": ")
			b.WriteString(oneLine(diag.Detail))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// oneLine keeps the one-problem-per-line contract even when a library's
// message (a JSONata error, say) spans lines.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", "")), " ")
}

// envFunc is env("NAME") or env("NAME", "default"). An unset or empty
// variable yields the default, or "" without one, so the shipped config
// starts with no environment at all (`make run`). It is a function rather
// than an HCL variable so that values never appear in diagnostics.
func envFunc(lookup func(string) (string, bool)) function.Function {
	return function.New(&function.Spec{
		Description: "Returns an environment variable, or the default (or \"\") when it is unset or empty.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			name := args[0].AsString()
			if name == "" || strings.ContainsAny(name, "=\x00") {
				return cty.NilVal, function.NewArgErrorf(0, "not a valid environment variable name")
			}
			if v, ok := lookup(name); ok && v != "" {
				return cty.StringVal(v), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return cty.StringVal(""), nil
		},
	})
}

// fileFunc is file("path"): the text of a file, relative paths taken from
// baseDir (the config file's directory) so the config works from any
// working directory. Only regular files are read, so a path such as
// /dev/stdin cannot block loading.
func fileFunc(baseDir string) function.Function {
	return function.New(&function.Spec{
		Description: "Returns the contents of a UTF-8 text file; relative paths start at the config file's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			if name == "" {
				return cty.NilVal, function.NewArgErrorf(0, "empty path")
			}
			p := name
			if !filepath.IsAbs(p) && baseDir != "" {
				p = filepath.Join(baseDir, p)
			}
			text, err := readText(p)
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "cannot read %q (resolved to %s): %s", name, p, err)
			}
			return cty.StringVal(text), nil
		},
	})
}

func readText(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", unwrapPathError(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", unwrapPathError(err)
	}
	if !st.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return "", unwrapPathError(err)
	}
	if len(b) > maxFileSize {
		return "", fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	if !utf8.Valid(b) {
		return "", errors.New("not UTF-8 text")
	}
	return string(b), nil
}

// unwrapPathError drops the path os errors repeat, since the message
// already names it.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sortDiagnostics orders diagnostics by position so the report reads top to
// bottom: cross-block checks run after decoding and would otherwise come
// out of order. Positionless ones stay first.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		default:
			return a.Start.Byte < b.Start.Byte
		}
	})
}
