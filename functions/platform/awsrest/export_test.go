package awsrest

// SHA256Hex is sha256Hex, for the tests.
func SHA256Hex(b []byte) string { return sha256Hex(b) }
