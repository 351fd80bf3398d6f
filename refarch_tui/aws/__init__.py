"""AWS access for the wizard.

- `access.AwsAccess`: the service the App owns — sessions per account, identity checks, guards, child envs;
- `auth`: the operator's choice (AuthConfig, stored in WorkspaceState.settings["auth"]) and IdentityResult;
- `keys`, `profiles`, `mfa`: where credentials come from (keyring, environment, ~/.aws files, MFA codes);
- `child_env.environment_for`: the environment of a child process, from `AwsAccess.child_credentials`;
- `doctor.aws_report`: the "aws" section of `refarch-tui doctor --json`;
- `errors`: one operator-readable sentence per failure; `clients`: botocore settings;
- `emulator`: the sandbox's moto server.

Importing these modules is cheap: boto3 and botocore are imported inside the functions that need them.
"""
