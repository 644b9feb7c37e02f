package sourcecost

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// awsConsole is the cost of the AWS console logins (a source) and of the two rules over them: every
// file, relative to the component's module, that exists for them alone. There is no line of another
// file to take out: the kinds, columns, keys and shapes are declared in the classifier file, each
// rule registers itself from its own file, and test files of other packages reach them through
// hooks (kindInvariants, unwrapSeeds, benchBatchKinds) that these files fill.
var awsConsole = []string{
	// The source: its classifier file (kinds, columns, discriminator keys, shapes, JSON marker,
	// wrapper), its record builder, their tests and the published samples they read.
	"internal/classify/cloudtrail.go",
	"internal/classify/cloudtrail_test.go",
	"internal/classify/cloudtrail_bench_test.go",
	"internal/classify/cloudtrail_samples_test.go",
	"internal/classify/testdata/cloud/awsdocs_iam_signin_failure.json",
	"internal/classify/testdata/cloud/awsdocs_iam_signin_failure_hidden_user.json",
	"internal/classify/testdata/cloud/awsdocs_iam_signin_success.json",
	"internal/classify/testdata/cloud/otelcontrib_cloudtrail_log.json",
	"internal/shapes/cloudtrail.go",
	"internal/shapes/cloudtrail_test.go",
	// The rules: one file each, and their tests (the plan's, and the processor's against the
	// brute-force model, in memory and in Redis, and their benchmarks).
	"internal/rules/aadthenawsconsole.go",
	"internal/rules/awsconsolethenaad.go",
	"internal/rules/awsconsole_test.go",
	"rules_aws_test.go",
	"rules_aws_model_test.go",
	"rules_aws_model_redis_test.go",
	"rules_aws_bench_test.go",
}

// skipped are the folders of the repository that are no part of the component's module (modules of
// their own, build outputs, the tools the Makefile installs).
var skipped = map[string]bool{".git": true, ".tools": true, "_build": true, "out": true, "tools": true, "e2e": true}

// TestDeletingTheAWSConsoleSource copies the component's module, deletes awsConsole, and builds,
// vets and tests what is left.
func TestDeletingTheAWSConsoleSource(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	dir := t.TempDir()
	copyModule(t, root, dir)
	for _, f := range awsConsole {
		require.NoError(t, os.Remove(filepath.Join(dir, filepath.FromSlash(f))), "the list names a file that is not there: keep it the cost of the source")
	}
	for _, args := range [][]string{
		{"build", "./..."},
		{"vet", "./..."},
		{"vet", "-tags", "redis", "./..."}, // the Redis tests compile without the source too
		{"test", "-count=1", "./..."},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s without the AWS console source:\n%s", strings.Join(args, " "), out)
	}
}

// copyModule copies the component's module at root into dir.
func copyModule(t *testing.T, root, dir string) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipped[rel] {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	require.NoError(t, err)
}
