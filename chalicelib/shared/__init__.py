"""What every feature uses: settings, errors and problem+json, HTTP plumbing, cursors, the clock,
AWS clients, DynamoDB helpers and the table's layout. Imports no feature."""
