#include "data.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "config/error.hpp"
#include "routing/routing.hpp"

namespace sparsim::trainer {

std::vector<int> tokenize(const std::string& doc) {
  std::vector<int> t{kBos};
  for (unsigned char c : doc) t.push_back(c);
  t.push_back(kEos);
  return t;
}

Dataset pack(const std::vector<DomainText>& domains, int seq) {
  Dataset d;
  d.seq = seq;
  std::vector<std::vector<std::vector<int>>> per(domains.size());
  for (std::size_t i = 0; i < domains.size(); ++i) {
    d.domain_names.push_back(domains[i].name);
    std::vector<int> stream;
    for (const auto& doc : domains[i].docs) {
      const auto t = tokenize(doc);
      stream.insert(stream.end(), t.begin(), t.end());
    }
    const std::size_t L = static_cast<std::size_t>(seq) + 1;
    for (std::size_t off = 0; off + L <= stream.size(); off += L)
      per[i].emplace_back(stream.begin() + static_cast<std::ptrdiff_t>(off),
                          stream.begin() + static_cast<std::ptrdiff_t>(off + L));
  }
  for (std::size_t k = 0;; ++k) {
    bool any = false;
    for (std::size_t i = 0; i < per.size(); ++i)
      if (k < per[i].size()) {
        d.tokens.push_back(per[i][k]);
        d.domain.push_back(static_cast<int>(i));
        any = true;
      }
    if (!any) break;
  }
  return d;
}

std::vector<DomainText> read_corpus(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  if (ec || files.empty())
    throw InputError(Origin{dir, 0, 0}, "corpus", "expected a directory with one <domain>.txt per domain "
                                                  "(run scripts/build-corpus.sh)");
  std::sort(files.begin(), files.end());
  std::vector<DomainText> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    DomainText d{f.stem().string(), {}};
    std::string line, doc;
    while (std::getline(in, line)) {
      if (line == "%") {
        if (!doc.empty()) d.docs.push_back(doc);
        doc.clear();
      } else {
        doc += line;
        doc += '\n';
      }
    }
    if (!doc.empty()) d.docs.push_back(doc);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<DomainText> synthetic_corpus(int domains, int docs_per_domain, std::uint64_t seed) {
  static const char* alphabets[] = {"etaoin shrdlu", "0123456789+-*/=", "{}();int x=0", "QWERTYUIOP"};
  std::vector<DomainText> out;
  std::uint64_t x = seed;
  auto next = [&x] {
    x = routing::derive_seed(x, 1);
    return x;
  };
  for (int d = 0; d < domains; ++d) {
    const std::string a = alphabets[d % 4];
    DomainText t{"synthetic" + std::to_string(d), {}};
    for (int i = 0; i < docs_per_domain; ++i) {
      std::string doc;
      const int words = 4 + static_cast<int>(next() % 6);
      for (int w = 0; w < words; ++w) {  // a word is a run of one letter then its successor
        const std::size_t c = next() % a.size();
        const int len = 1 + static_cast<int>(next() % 4);
        for (int k = 0; k < len; ++k) doc += a[(c + static_cast<std::size_t>(k)) % a.size()];
        doc += ' ';
      }
      t.docs.push_back(doc);
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<int> batch_indices(const Dataset& d, int step, int B_global, int rank, int ranks, std::uint64_t seed) {
  SPARSIM_ASSERT(B_global % ranks == 0, "global batch must divide over the ranks");
  const int n = static_cast<int>(d.size());
  SPARSIM_ASSERT(n >= B_global, "dataset smaller than one batch");
  const int per_epoch = n / B_global;
  const int epoch = step / per_epoch, pos = step % per_epoch;
  const auto perm = routing::random_permutation(n, routing::derive_seed(seed, static_cast<std::uint64_t>(epoch)));
  const int B = B_global / ranks;
  std::vector<int> idx;
  for (int j = 0; j < B; ++j) idx.push_back(perm[static_cast<std::size_t>(pos * B_global + rank * B + j)]);
  return idx;
}

namespace {

/// The domain of each of rank r's B_global / ranks slots: its domains in turn.
std::vector<int> slot_domains(const std::vector<std::vector<int>>& rank_domains, int B_global, int r) {
  const int ranks = static_cast<int>(rank_domains.size());
  const auto& mine = rank_domains[static_cast<std::size_t>(r)];
  SPARSIM_ASSERT(!mine.empty(), "grouped data: every rank reads some domain");
  std::vector<int> out;
  for (int j = 0; j < B_global / ranks; ++j) out.push_back(mine[static_cast<std::size_t>(j) % mine.size()]);
  return out;
}

}  // namespace

std::vector<int> grouped_step_counts(const Dataset& d, int B_global, const std::vector<std::vector<int>>& rank_domains) {
  const int ranks = static_cast<int>(rank_domains.size());
  SPARSIM_ASSERT(ranks > 0 && B_global % ranks == 0, "global batch must divide over the ranks");
  std::vector<int> count(d.domain_names.size(), 0);
  for (int r = 0; r < ranks; ++r)
    for (int dom : slot_domains(rank_domains, B_global, r)) {
      SPARSIM_ASSERT(dom >= 0 && dom < static_cast<int>(count.size()), "grouped data: domain out of range");
      ++count[static_cast<std::size_t>(dom)];
    }
  return count;
}

std::vector<int> grouped_batch_indices(const Dataset& d, int step, int B_global,
                                       const std::vector<std::vector<int>>& rank_domains, int rank, std::uint64_t seed) {
  const int ranks = static_cast<int>(rank_domains.size());
  SPARSIM_ASSERT(rank >= 0 && rank < ranks, "grouped data: rank out of range");
  const std::vector<int> count = grouped_step_counts(d, B_global, rank_domains);
  // the slots of domain dom on the ranks before this one: where this rank's part starts
  std::vector<int> next(count.size(), 0);
  for (int r = 0; r < rank; ++r)
    for (int dom : slot_domains(rank_domains, B_global, r)) ++next[static_cast<std::size_t>(dom)];
  std::vector<std::vector<int>> of_domain(count.size());
  for (std::size_t i = 0; i < d.size(); ++i) of_domain[static_cast<std::size_t>(d.domain[i])].push_back(static_cast<int>(i));
  // each domain's permutation for this step's epoch, drawn once however many slots read it
  std::map<std::size_t, std::vector<int>> perm;
  std::vector<int> idx;
  for (int dom : slot_domains(rank_domains, B_global, rank)) {
    const auto k = static_cast<std::size_t>(dom);
    const auto& seqs = of_domain[k];
    const int n = static_cast<int>(seqs.size()), c = count[k];
    if (n < c)
      throw std::invalid_argument("grouped domain data: domain '" + d.domain_names[k] + "' has " + std::to_string(n) +
                                  " sequences, one step takes " + std::to_string(c));
    const int per_epoch = n / c, epoch = step / per_epoch, pos = step % per_epoch;
    auto [it, fresh] = perm.try_emplace(k);
    if (fresh)
      it->second = routing::random_permutation(
          n, routing::derive_seed(routing::derive_seed(seed, 1000 + k), static_cast<std::uint64_t>(epoch)));
    idx.push_back(seqs[static_cast<std::size_t>(it->second[static_cast<std::size_t>(pos * c + next[k]++)])]);
  }
  return idx;
}

}  // namespace sparsim::trainer
