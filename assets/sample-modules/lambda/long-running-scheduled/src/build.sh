#!/bin/sh
# Builds the deployment package of the long-running-scheduled Lambda function.
#
# Usage: build.sh [BUILD_DIR]    (default: ../build, beside this src folder)
#
# At the end it prints the path of the package and the environment variable to export before running
# terragrunt in lambda/long-running-scheduled. It needs no network access.
set -eu

SRC_DIR=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
BUILD_DIR=${1:-"$SRC_DIR/../build"}
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(CDPATH= cd -- "$BUILD_DIR" && pwd)
ZIP_PATH="$BUILD_DIR/lambda.zip"
STAGE_DIR="$BUILD_DIR/package"

echo "Building the deployment package in $BUILD_DIR"
rm -rf "$STAGE_DIR" "$ZIP_PATH"
mkdir -p "$STAGE_DIR"
cp "$SRC_DIR/index.py" "$STAGE_DIR/index.py"

if command -v zip >/dev/null 2>&1; then
  (cd "$STAGE_DIR" && zip -q -r "$ZIP_PATH" .)
elif command -v python3 >/dev/null 2>&1; then
  python3 - "$STAGE_DIR" "$ZIP_PATH" <<'PY'
import os, sys, zipfile
stage, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
    for base, _dirs, files in os.walk(stage):
        for name in sorted(files):
            path = os.path.join(base, name)
            zf.write(path, os.path.relpath(path, stage))
PY
else
  echo "ERROR: neither zip nor python3 is installed; install one of them and run this script again." >&2
  exit 1
fi
rm -rf "$STAGE_DIR"

echo "Deployment package created: $ZIP_PATH"
echo
echo "Before you run terragrunt in lambda/long-running-scheduled, set this environment variable:"
echo
echo "export TF_VAR_lambda_zip_path=$ZIP_PATH"
