#!/usr/bin/env perl
# Runs a command, or an array of jobs, on this machine, Kaldi style:
#
#   run.pl [options] log/x.log command ...
#   run.pl [options] JOB=1:N log/x.JOB.log command ...
#
# Every occurrence of JOB (or whatever name is given before "=") in the log
# name and in the command is replaced by the job's index.  Each log gets the
# command, the start time, the output, and the end time with the exit code.
# Exits 0 when every job succeeded, otherwise 1 and names the failed logs.
#
# Options:
#   --max-jobs-run N   at most N jobs at once (default: the number of cores)
#   --gpu N --mem M --num-threads N --time T --name S --config F
#                      accepted for compatibility with the queue back-ends;
#                      --num-threads sets OMP_NUM_THREADS for the jobs.
use strict;
use warnings;
use POSIX qw(strftime :sys_wait_h);
use File::Basename qw(dirname);
use File::Path qw(make_path);

sub usage {
  print STDERR "Usage: run.pl [--max-jobs-run N] [--gpu N] [--mem M] [--num-threads N] [--time T]\n",
               "              [JOB=1:N] <log-file> <command> ...\n";
  exit 1;
}

my $max_jobs = 0;
my $num_threads = 0;
my %ignored = map { $_ => 1 } qw(gpu mem time name config);
while (@ARGV && $ARGV[0] =~ m/^--([\w-]+)(?:=(.*))?$/) {
  my $name = $1; $name =~ s/-/_/g;
  shift @ARGV;
  my $value = defined $2 ? $2 : shift @ARGV;
  defined $value or die "run.pl: option --$name needs a value\n";
  if ($name eq 'max_jobs_run') {
    $value =~ m/^\d+$/ && $value > 0 or die "run.pl: --max-jobs-run needs a positive integer, got '$value'\n";
    $max_jobs = $value;
  } elsif ($name eq 'num_threads') {
    $value =~ m/^\d+$/ && $value > 0 or die "run.pl: --num-threads needs a positive integer, got '$value'\n";
    $num_threads = $value;
  } elsif (!$ignored{$name}) {
    die "run.pl: unknown option --$name\n";
  }
}

my ($jobvar, $first, $last) = (undef, 1, 1);
if (@ARGV && $ARGV[0] =~ m/^([A-Za-z_]\w*)=(\d+):(\d+)$/) {
  ($jobvar, $first, $last) = ($1, $2, $3);
  shift @ARGV;
  $first <= $last or die "run.pl: empty job range $jobvar=$first:$last\n";
} elsif (@ARGV && $ARGV[0] =~ m/^([A-Za-z_]\w*)=(\d+)$/) {
  ($jobvar, $first, $last) = ($1, $2, $2);
  shift @ARGV;
}
@ARGV >= 2 or usage();
my $logtemplate = shift @ARGV;
if (defined $jobvar && $first != $last && $logtemplate !~ m/\b$jobvar\b/) {
  die "run.pl: the log name '$logtemplate' must contain $jobvar when running several jobs\n";
}

# Words without white space go in as they are, so that pipes and
# redirections given as separate words keep working; others are quoted.
# A single argument is a whole shell command line.
my @words;
for my $arg (@ARGV == 1 ? () : @ARGV) {
  if ($arg =~ m/^\S+$/) { push @words, $arg; }
  else { (my $q = $arg) =~ s/'/'\\''/g; push @words, "'$q'"; }
}
my $cmdtemplate = @ARGV == 1 ? $ARGV[0] : join(' ', @words);

if ($max_jobs == 0) {
  # nproc alone would follow OMP_NUM_THREADS, which is about threads per job
  my $cores = `env -u OMP_NUM_THREADS nproc 2>/dev/null`; chomp $cores;
  $max_jobs = ($cores =~ m/^\d+$/ && $cores > 0) ? $cores : 1;
}
$ENV{OMP_NUM_THREADS} = $num_threads if $num_threads;

sub substitute {
  my ($text, $index) = @_;
  $text =~ s/\b$jobvar\b/$index/g if defined $jobvar;
  return $text;
}

sub now { return strftime("%a %b %e %H:%M:%S %Z %Y", localtime); }

sub run_one {
  my ($index) = @_;
  my $log = substitute($logtemplate, $index);
  my $cmd = substitute($cmdtemplate, $index);
  my $dir = dirname($log);
  make_path($dir) unless -d $dir;
  open(my $fh, '>', $log) or die "run.pl: cannot write log file $log: $!\n";
  print $fh "# $cmd \n# Started at " . now() . "\n#\n";
  close $fh;
  my $start = time();
  # The outer shell catches TERM and INT only to wait for the command, which
  # gets them with their default meaning (or its own traps) and may clean up.
  my $parent = getppid();
  my $job = fork();
  die "run.pl: fork failed: $!\n" unless defined $job;
  if ($job == 0) {
    exec('bash', '-c', "trap : TERM INT; ( $cmd ) </dev/null >>'$log' 2>&1") or exit 127;
  }
  # The job is in a process group of its own, which a kill of the caller's
  # group (SIGKILL cannot be passed on) does not reach: once run.pl is gone,
  # its job must not run on unseen, publishing what nobody waits for.
  my $status;
  while (1) {
    if (waitpid($job, WNOHANG) == $job) { $status = $?; last; }
    kill 'KILL', -$$ if getppid() != $parent;
    select(undef, undef, undef, 0.2);
  }
  my $code = $status == -1 ? 127 : ($status & 127 ? 128 + ($status & 127) : $status >> 8);
  my $elapsed = time() - $start;
  open($fh, '>>', $log) or die "run.pl: cannot append to log file $log: $!\n";
  print $fh "# Accounting: time=$elapsed threads=" . ($num_threads || 1) . "\n";
  print $fh "# Ended (code $code) at " . now() . ", elapsed time $elapsed seconds\n";
  close $fh;
  return $code;
}

my %running;   # pid -> job index
my %code;      # job index -> exit code
# A TERM or INT (scancel, a time limit, Ctrl-C) goes on to every running job,
# each in a process group of its own, so that the jobs can clean up; then
# run.pl waits for them and exits as the signal asks.
my $stop_signal;
for my $sig (qw(TERM INT)) {
  $SIG{$sig} = sub {
    $stop_signal = $sig;
    kill $sig, map { -$_ } keys %running;
  };
}
for my $index ($first .. $last) {
  last if $stop_signal;
  while (scalar(keys %running) >= $max_jobs) {
    my $pid = wait();
    next if $pid == -1;
    $code{$running{$pid}} = $? >> 8;
    delete $running{$pid};
  }
  my $pid = fork();
  die "run.pl: fork failed: $!\n" unless defined $pid;
  if ($pid == 0) {
    setpgrp(0, 0);
    # This process outlives its command to write the end of the log; a
    # handler (unlike 'IGNORE') is not inherited by the command.
    $SIG{$_} = sub { } for qw(TERM INT);
    my $c = run_one($index);
    exit($c > 255 ? 255 : $c);
  }
  # The parent sets the group too, so that a TERM arriving before the child
  # has run reaches it (each side may get there first).
  setpgrp($pid, $pid);
  $running{$pid} = $index;
}
while (scalar(keys %running) > 0) {
  my $pid = wait();
  last if $pid == -1;
  $code{$running{$pid}} = $? >> 8;
  delete $running{$pid};
}

exit($stop_signal eq 'TERM' ? 143 : 130) if $stop_signal;

my @failed = grep { $code{$_} != 0 } sort { $a <=> $b } keys %code;
if (@failed) {
  my $total = $last - $first + 1;
  my @logs = map { substitute($logtemplate, $_) } @failed;
  print STDERR "run.pl: " . scalar(@failed) . " / $total failed, log is in " . join(' ', @logs) . "\n";
  exit 1;
}
exit 0;
