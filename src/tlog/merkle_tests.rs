//! Known-answer tests. The leaf inputs, node hashes, tree heads and proofs
//! are transparency-dev/merkle's test data: `testonly/constants.go`
//! (LeafInputs, NodeHashes, RootHashes) and `proof/verify_test.go`
//! (inclusionProofs, consistencyProofs; leaf numbers there count from 1),
//! the same vectors as certificate-transparency's C++ merkle tree tests.

use super::*;

fn h(hex: &str) -> Hash {
    data_encoding::HEXLOWER
        .decode(hex.as_bytes())
        .unwrap()
        .try_into()
        .unwrap()
}

fn inputs() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|x| data_encoding::HEXLOWER.decode(x.as_bytes()).unwrap())
    .collect()
}

fn leaves() -> Vec<Hash> {
    inputs().iter().map(|i| leaf_hash(i)).collect()
}

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

const LEVEL1: [&str; 4] = [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
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

/// (leaf number from 1, tree size, proof)
const INCLUSION: &[(usize, usize, &[&str])] = &[
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
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        3,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        2,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, proof)
const CONSISTENCY: &[(usize, usize, &[&str])] = &[
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

#[test]
fn leaf_hashes_match_the_reference_vectors() {
    let got = leaves();
    for (i, want) in LEAF_HASHES.iter().enumerate() {
        assert_eq!(got[i], h(want), "leaf {i}");
    }
}

#[test]
fn node_hashes_match_the_reference_vectors() {
    let l = leaves();
    for (i, want) in LEVEL1.iter().enumerate() {
        assert_eq!(node_hash(&l[2 * i], &l[2 * i + 1]), h(want), "node 1/{i}");
    }
    let level1: Vec<Hash> = LEVEL1.iter().map(|x| h(x)).collect();
    assert_eq!(
        node_hash(&level1[2], &level1[3]),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")
    );
}

#[test]
fn tree_heads_of_every_size_match_the_reference_vectors() {
    let l = leaves();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(root(&l[..size]), h(want), "size {size}");
    }
}

#[test]
fn inclusion_proofs_match_the_reference_vectors_and_verify() {
    let l = leaves();
    for &(leaf, size, want) in INCLUSION {
        let want: Vec<Hash> = want.iter().map(|x| h(x)).collect();
        let got = inclusion_proof(leaf - 1, &l[..size]).unwrap();
        assert_eq!(got, want, "leaf {leaf} of {size}");
        let head = h(ROOTS[size]);
        verify_inclusion((leaf - 1) as u64, size as u64, &l[leaf - 1], &got, &head).unwrap();
    }
}

#[test]
fn consistency_proofs_match_the_reference_vectors_and_verify() {
    let l = leaves();
    for &(old, new, want) in CONSISTENCY {
        let want: Vec<Hash> = want.iter().map(|x| h(x)).collect();
        let got = consistency_proof(old, &l[..new]).unwrap();
        assert_eq!(got, want, "{old} to {new}");
        verify_consistency(old as u64, new as u64, &got, &h(ROOTS[old]), &h(ROOTS[new])).unwrap();
    }
}

#[test]
fn every_proof_of_every_small_tree_verifies_and_a_flipped_bit_does_not() {
    let l: Vec<Hash> = (0u8..20).map(|i| leaf_hash(&[i])).collect();
    for size in 1..=l.len() {
        let tree = &l[..size];
        let head = root(tree);
        for index in 0..size {
            let mut proof = inclusion_proof(index, tree).unwrap();
            verify_inclusion(index as u64, size as u64, &tree[index], &proof, &head).unwrap();
            assert!(verify_inclusion(index as u64, size as u64, &leaf_hash(b"x"), &proof, &head).is_err());
            if let Some(first) = proof.first_mut() {
                first[0] ^= 8;
                assert!(verify_inclusion(index as u64, size as u64, &tree[index], &proof, &head).is_err());
            }
        }
        for old in 1..size {
            let mut proof = consistency_proof(old, tree).unwrap();
            let old_head = root(&l[..old]);
            verify_consistency(old as u64, size as u64, &proof, &old_head, &head).unwrap();
            assert!(verify_consistency(old as u64, size as u64, &proof, &head, &old_head).is_err());
            proof[0][0] ^= 16;
            assert!(verify_consistency(old as u64, size as u64, &proof, &old_head, &head).is_err());
        }
    }
}

#[test]
fn proofs_outside_the_tree_are_refused() {
    let l = leaves();
    assert!(inclusion_proof(8, &l).is_err());
    assert!(verify_inclusion(3, 3, &l[0], &[], &root(&l[..3])).is_err());
    assert!(consistency_proof(9, &l).is_err());
    assert!(verify_consistency(5, 4, &[], &l[0], &l[0]).is_err());
}
