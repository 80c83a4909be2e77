//! The Merkle tree over the log: RFC 9162 hashing (leaf `0x00`, node `0x01`, split at the largest
//! power of two below the size), kept as the stored hashes of its complete subtrees, so that the
//! root of every earlier size and every proof can be computed from it.

use tlog_tiles::{Hash, HashReader};

/// Why a tree could not answer or a proof did not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the tree has {size} leaves; leaf {index} is not among them")]
    NoSuchLeaf { index: u64, size: u64 },
    #[error("the tree has {size} leaves; a tree of {asked} cannot be proved from it")]
    BeyondTree { asked: u64, size: u64 },
    #[error("a consistency proof needs 1 <= from <= to; asked from {from} to {to}")]
    BadRange { from: u64, to: u64 },
    #[error("the proof does not hold")]
    Invalid,
}

/// An append-only RFC 9162 Merkle tree, held in memory as its stored hashes (about two per leaf).
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    hashes: Vec<Hash>,
    size: u64,
}

impl HashReader for MerkleTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.hashes.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl MerkleTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf by its leaf hash.
    pub fn push(&mut self, leaf_hash: Hash) {
        let new = tlog_tiles::stored_hashes_for_record_hash(self.size, leaf_hash, self)
            .expect("the hashes of the tree so far are all held");
        self.hashes.extend(new);
        self.size += 1;
    }

    /// The leaf hash at `index` (from 0).
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        if index >= self.size {
            return None;
        }
        let stored = tlog_tiles::stored_hash_index(0, index);
        self.read_hashes(&[stored]).ok().map(|h| h[0])
    }

    /// The root hash of the tree's first `size` leaves.
    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        self.within(size)?;
        tlog_tiles::tree_hash(size, self).map_err(|_| ProofError::Invalid)
    }

    /// The inclusion proof (audit path) of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.within(size)?;
        if index >= size {
            return Err(ProofError::NoSuchLeaf { index, size });
        }
        tlog_tiles::prove_record(size, index, self).map_err(|_| ProofError::Invalid)
    }

    /// The consistency proof that the tree of `to` leaves extends the tree of `from` leaves.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
        self.within(to)?;
        if from == 0 || from > to {
            return Err(ProofError::BadRange { from, to });
        }
        tlog_tiles::prove_tree(to, from, self).map_err(|_| ProofError::Invalid)
    }

    fn within(&self, asked: u64) -> Result<(), ProofError> {
        if asked > self.size {
            Err(ProofError::BeyondTree {
                asked,
                size: self.size,
            })
        } else {
            Ok(())
        }
    }
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    proof: &[Hash],
    index: u64,
    size: u64,
    leaf_hash: Hash,
    root: Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::NoSuchLeaf { index, size });
    }
    tlog_tiles::check_record(&proof.to_vec(), size, root, index, leaf_hash)
        .map_err(|_| ProofError::Invalid)
}

/// Checks that the tree of `to` leaves with root `to_root` extends the tree of `from` leaves with
/// root `from_root`.
pub fn verify_consistency(
    proof: &[Hash],
    from: u64,
    from_root: Hash,
    to: u64,
    to_root: Hash,
) -> Result<(), ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::BadRange { from, to });
    }
    tlog_tiles::check_tree(&proof.to_vec(), to, to_root, from, from_root)
        .map_err(|_| ProofError::Invalid)
}

#[cfg(test)]
mod tests {
    //! Known answers: the RFC 6962 reference leaves, node hashes, roots and proofs that
    //! transparency-dev/merkle and the Certificate Transparency implementations test against.

    use super::*;

    fn h(text: &str) -> Hash {
        let bytes = hex::decode(text).expect("hex");
        Hash(bytes.try_into().expect("32 bytes"))
    }

    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];

    const ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// The leaf hashes of the reference leaves (level 0 of the reference node hashes).
    const LEAF_HASHES: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ];

    /// (leaf index, tree size, audit path)
    const INCLUSION: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];

    /// (old size, new size, proof)
    const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (
            6,
            7,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];

    fn reference_tree() -> MerkleTree {
        let mut tree = MerkleTree::new();
        for leaf in LEAVES {
            tree.push(tlog_tiles::record_hash(&hex::decode(leaf).expect("hex")));
        }
        tree
    }

    fn path(hashes: &[&str]) -> Vec<Hash> {
        hashes.iter().map(|x| h(x)).collect()
    }

    #[test]
    fn leaf_hashes_and_roots_match_the_reference() {
        let tree = reference_tree();
        assert_eq!(tree.size(), 8);
        for (i, expected) in LEAF_HASHES.iter().enumerate() {
            assert_eq!(tree.leaf_hash(i as u64), Some(h(expected)), "leaf {i}");
        }
        for (size, expected) in ROOTS.iter().enumerate() {
            assert_eq!(tree.root(size as u64), Ok(h(expected)), "size {size}");
        }
        assert_eq!(tree.leaf_hash(8), None);
        assert_eq!(
            tree.root(9),
            Err(ProofError::BeyondTree { asked: 9, size: 8 })
        );
    }

    #[test]
    fn inclusion_proofs_match_the_reference_and_verify() {
        let tree = reference_tree();
        for (index, size, expected) in INCLUSION {
            let proof = tree.inclusion_proof(index, size).expect("a proof");
            assert_eq!(proof, path(expected), "leaf {index} in {size}");
            let root = h(ROOTS[size as usize]);
            let leaf = h(LEAF_HASHES[index as usize]);
            assert_eq!(verify_inclusion(&proof, index, size, leaf, root), Ok(()));
        }
    }

    #[test]
    fn consistency_proofs_match_the_reference_and_verify() {
        let tree = reference_tree();
        for (from, to, expected) in CONSISTENCY {
            let proof = tree.consistency_proof(from, to).expect("a proof");
            assert_eq!(proof, path(expected), "{from} to {to}");
            let (from_root, to_root) = (h(ROOTS[from as usize]), h(ROOTS[to as usize]));
            assert_eq!(
                verify_consistency(&proof, from, from_root, to, to_root),
                Ok(())
            );
        }
    }

    /// The probes transparency-dev/merkle runs against each known-good inclusion proof: a wrong
    /// index, size, leaf or root, and a proof with garbage added, a component removed or a bit
    /// flipped; none may verify.
    #[test]
    fn corrupted_inclusion_proofs_are_refused() {
        let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        let empty = h(ROOTS[0]);
        for (index, size, expected) in INCLUSION.into_iter().skip(1) {
            let proof = path(expected);
            let root = h(ROOTS[size as usize]);
            let leaf = h(LEAF_HASHES[index as usize]);
            let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
                (index.wrapping_sub(1), size, root, leaf, proof.clone()),
                (index + 1, size, root, leaf, proof.clone()),
                (index ^ 2, size, root, leaf, proof.clone()),
                (index, size * 2, root, leaf, proof.clone()),
                (index, size / 2, root, leaf, proof.clone()),
                (index, size, root, some, proof.clone()),
                (index, size, empty, leaf, proof.clone()),
                (index, size, some, leaf, proof.clone()),
                (
                    index,
                    size,
                    root,
                    leaf,
                    [proof.clone(), vec![root]].concat(),
                ),
                (
                    index,
                    size,
                    root,
                    leaf,
                    [vec![root], proof.clone()].concat(),
                ),
                (index, size, root, leaf, proof[..proof.len() - 1].to_vec()),
            ];
            for i in 0..proof.len() {
                let mut flipped = proof.clone();
                flipped[i].0[0] ^= 8;
                probes.push((index, size, root, leaf, flipped));
            }
            for (i, (index, size, root, leaf, proof)) in probes.into_iter().enumerate() {
                assert!(
                    verify_inclusion(&proof, index, size, leaf, root).is_err(),
                    "probe {i} verified"
                );
            }
        }
    }

    #[test]
    fn corrupted_consistency_proofs_are_refused() {
        for (from, to, expected) in CONSISTENCY.into_iter().skip(1) {
            let proof = path(expected);
            let (r1, r2) = (h(ROOTS[from as usize]), h(ROOTS[to as usize]));
            let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
                (from - 1, to, r1, r2, proof.clone()),
                (from + 1, to, r1, r2, proof.clone()),
                (from ^ 2, to, r1, r2, proof.clone()),
                (from, to * 2, r1, r2, proof.clone()),
                (from, to / 2, r1, r2, proof.clone()),
                (from, to, r2, r1, proof.clone()),
                (from, to, r1, r2, vec![]),
                (from, to, r1, r2, [proof.clone(), vec![r1]].concat()),
                (from, to, r1, r2, [vec![r2], proof.clone()].concat()),
                (from, to, r1, r2, proof[..proof.len() - 1].to_vec()),
            ];
            for i in 0..proof.len() {
                let mut flipped = proof.clone();
                flipped[i].0[0] ^= 16;
                probes.push((from, to, r1, r2, flipped));
            }
            for (i, (from, to, r1, r2, proof)) in probes.into_iter().enumerate() {
                assert!(
                    verify_consistency(&proof, from, r1, to, r2).is_err(),
                    "probe {i} from {from} to {to} verified"
                );
            }
        }
    }

    /// Every leaf in every size of a larger tree proves its inclusion, and every pair of sizes
    /// its consistency, against roots computed independently by RFC 9162's recursive definition.
    #[test]
    fn every_proof_of_a_larger_tree_verifies() {
        fn reference_root(leaves: &[Hash]) -> Hash {
            match leaves.len() {
                0 => tlog_tiles::EMPTY_HASH,
                1 => leaves[0],
                n => {
                    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                    tlog_tiles::node_hash(
                        reference_root(&leaves[..k]),
                        reference_root(&leaves[k..]),
                    )
                }
            }
        }
        let leaves: Vec<Hash> = (0u8..37)
            .map(|i| tlog_tiles::record_hash(&[i, i.wrapping_mul(7)]))
            .collect();
        let mut tree = MerkleTree::new();
        for leaf in &leaves {
            tree.push(*leaf);
        }
        for size in 1..=leaves.len() as u64 {
            let root = reference_root(&leaves[..size as usize]);
            assert_eq!(tree.root(size), Ok(root), "size {size}");
            for index in 0..size {
                let proof = tree.inclusion_proof(index, size).expect("a proof");
                let leaf = leaves[index as usize];
                assert_eq!(verify_inclusion(&proof, index, size, leaf, root), Ok(()));
                let other = leaves[((index + 1) % 37) as usize];
                assert!(verify_inclusion(&proof, index, size, other, root).is_err());
            }
            for from in 1..=size {
                let proof = tree.consistency_proof(from, size).expect("a proof");
                let from_root = reference_root(&leaves[..from as usize]);
                assert_eq!(
                    verify_consistency(&proof, from, from_root, size, root),
                    Ok(())
                );
            }
        }
    }
}
