package csvsync

// HashOperations is how many password hashes (or verifications) a plan
// cost, for the tests: a file with blank passwords or the export
// placeholder costs none but the shared temporary password, hashed once.
func HashOperations(p *Plan) int { return p.hashes }
