// Corpus, byte-level tokenizer and packing. A corpus directory holds one UTF-8 text file per
// domain (scripts/build-corpus.sh writes en.txt, zh.txt, code.txt); documents in a file are
// separated by a line holding only "%" (the fortune format). Domain IDs follow the sorted file
// names. Tokens: bytes 0..255, BOS = 256, EOS = 257 (V = 258).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sparsim::trainer {

inline constexpr int kBos = 256, kEos = 257, kByteVocab = 258;

struct DomainText {
  std::string name;
  std::vector<std::string> docs;
};

/// Packed sequences: tokens[i] holds s + 1 IDs (inputs = first s, targets = last s).
struct Dataset {
  int seq = 0;
  std::vector<std::string> domain_names;
  std::vector<std::vector<int>> tokens;
  std::vector<int> domain;  ///< per sequence
  std::size_t size() const { return tokens.size(); }
};

/// BOS, the bytes of `doc`, EOS.
std::vector<int> tokenize(const std::string& doc);

/// Each domain's documents are tokenized, concatenated and cut into sequences of s + 1 tokens
/// (the tail shorter than s + 1 is dropped); domains are then interleaved round-robin.
Dataset pack(const std::vector<DomainText>& domains, int seq);

/// Reads every *.txt of `dir` (sorted) as one domain. Throws InputError when none is found.
std::vector<DomainText> read_corpus(const std::string& dir);

/// A tiny deterministic multi-domain corpus for tests: domain d's documents are made of words
/// from its own small alphabet, so the next byte is partly predictable.
std::vector<DomainText> synthetic_corpus(int domains, int docs_per_domain, std::uint64_t seed);

/// Sequence indices of step `step` for `rank`: the global batch of B_global sequences is the
/// next slice of a per-epoch permutation, rank r takes its B_global / ranks consecutive part.
std::vector<int> batch_indices(const Dataset& d, int step, int B_global, int rank, int ranks, std::uint64_t seed);

/// Grouped domain data (PanGu-Σ): rank r reads only sequences of its domains `rank_domains[r]`
/// (non-empty, ascending), its B_global / ranks slots taking them in turn. Domain d's sequences
/// of a step are the next slice of a per-epoch permutation of that domain's sequences, taken by
/// the ranks in rank order; the step's set of sequences does not depend on how the ranks are
/// laid out as long as each domain gets the same number of slots. Throws std::invalid_argument
/// when a domain has fewer sequences than one step takes.
std::vector<int> grouped_batch_indices(const Dataset& d, int step, int B_global,
                                       const std::vector<std::vector<int>>& rank_domains, int rank, std::uint64_t seed);

/// The sequences per domain one step of grouped_batch_indices takes (size = dataset domains).
std::vector<int> grouped_step_counts(const Dataset& d, int B_global, const std::vector<std::vector<int>>& rank_domains);

}  // namespace sparsim::trainer
