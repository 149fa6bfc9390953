// Sample statistics of a sweep's metrics: mean, standard deviation and the half-width of
// the 95% confidence interval of the mean, with Student's t for n-1 degrees of freedom.
#pragma once

#include <cstddef>
#include <vector>

namespace mz::sweep {

/// The p-quantile of Student's t distribution with `df` degrees of freedom (df > 0,
/// 0 < p < 1), by bisection on the CDF (regularized incomplete beta function); accurate to
/// about 1e-10 relative. t_quantile(0.975, 10) = 2.228139...
double t_quantile(double p, double df);

/// Student's t CDF.
double t_cdf(double t, double df);

struct Stats {
  size_t n = 0;
  double mean = 0;     // valid if n >= 1
  double sd = 0;       // sample standard deviation (n - 1 in the denominator); valid if n >= 2
  double ci95 = 0;     // t_quantile(0.975, n - 1) * sd / sqrt(n); valid if n >= 2
};

/// Mean, standard deviation and 95% CI half-width of the values (summed in order).
Stats describe(const std::vector<double>& values);

}  // namespace mz::sweep
