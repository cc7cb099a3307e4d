package sops

import "fmt"

// combineShares recovers a secret split with Shamir's scheme over GF(2^8), in
// the share layout SOPS uses for key groups: each share is the polynomial
// values for every secret byte followed by one byte, the share's x coordinate.
// Interpolating at x = 0 gives each byte of the secret.
func combineShares(shares [][]byte) ([]byte, error) {
	if len(shares) < 2 {
		return nil, fmt.Errorf("need at least 2 shares, have %d", len(shares))
	}
	size := len(shares[0])
	if size < 2 {
		return nil, fmt.Errorf("shares are too short")
	}
	xs := make([]byte, len(shares))
	seen := map[byte]bool{}
	for i, s := range shares {
		if len(s) != size {
			return nil, fmt.Errorf("shares have different lengths")
		}
		x := s[size-1]
		if x == 0 || seen[x] {
			return nil, fmt.Errorf("shares have a zero or repeated x coordinate")
		}
		seen[x] = true
		xs[i] = x
	}
	secret := make([]byte, size-1)
	for b := range secret {
		var sum byte
		for i, s := range shares {
			// Lagrange basis polynomial i at 0: the product of x_j / (x_i - x_j)
			// over j != i; in GF(2^8) subtraction is xor.
			basis := byte(1)
			for j := range shares {
				if i != j {
					basis = gfMul(basis, gfMul(xs[j], gfInv(xs[i]^xs[j])))
				}
			}
			sum ^= gfMul(s[b], basis)
		}
		secret[b] = sum
	}
	return secret, nil
}

// gfMul multiplies in GF(2^8) modulo the AES polynomial x^8+x^4+x^3+x+1.
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		carry := a & 0x80
		a <<= 1
		if carry != 0 {
			a ^= 0x1b
		}
		b >>= 1
	}
	return p
}

// gfInv is the multiplicative inverse in GF(2^8): a^254, since a^255 = 1.
func gfInv(a byte) byte {
	result := byte(1)
	base := a
	for e := 254; e > 0; e >>= 1 {
		if e&1 != 0 {
			result = gfMul(result, base)
		}
		base = gfMul(base, base)
	}
	return result
}
