#!/usr/bin/env perl
# Submits a command, or an array of jobs, to Slurm with the same command line
# as run.pl, waits for it and fails if any job failed:
#
#   slurm.pl [options] log/x.log command ...
#   slurm.pl [options] JOB=1:N log/x.JOB.log command ...
#
# The sbatch command line is built from a config file (default
# conf/slurm.conf) made of lines like
#   command sbatch --export=ALL        the submission command
#   option mem=* --mem $0              --mem V adds "--mem V"
#   option gpu=0                       --gpu 0 adds nothing
#   option gpu=* -p gpu --gres=gpu:$0  any other --gpu V
#   default gpu=0                      used when the option is not given
# Any option named in the config may be given (--num-threads sets num_threads).
# Other options: --config F, --max-jobs-run N (array throttle),
# --poll-interval S (seconds between checks, default 1).
use strict;
use warnings;
use Cwd qw(getcwd abs_path);
use File::Basename qw(dirname basename);
use File::Path qw(make_path);

my $config = 'conf/slurm.conf';
my $max_jobs = 0;
my $poll = 1;
my %given;
while (@ARGV && $ARGV[0] =~ m/^--([\w-]+)(?:=(.*))?$/) {
  my $name = $1; $name =~ s/-/_/g;
  shift @ARGV;
  my $value = defined $2 ? $2 : shift @ARGV;
  defined $value or die "slurm.pl: option --$name needs a value\n";
  if ($name eq 'config') { $config = $value; }
  elsif ($name eq 'max_jobs_run') { $max_jobs = $value; }
  elsif ($name eq 'poll_interval') { $poll = $value; }
  else { $given{$name} = $value; }
}

# Read the config.
open(my $cfh, '<', $config) or die "slurm.pl: cannot read config file $config: $!\n";
my ($submit, %exact, %wild, %default);
my $lineno = 0;
while (my $line = <$cfh>) {
  $lineno++;
  $line =~ s/#.*$//; $line =~ s/^\s+|\s+$//g;
  next if $line eq '';
  if ($line =~ m/^command\s+(.+)$/) { $submit = $1; }
  elsif ($line =~ m/^option\s+(\w+)=\*\s*(.*)$/) { $wild{$1} = $2; }
  elsif ($line =~ m/^option\s+(\w+)=(\S+)\s*(.*)$/) { $exact{"$1=$2"} = $3; $wild{$1} //= undef; }
  elsif ($line =~ m/^default\s+(\w+)=(\S+)$/) { $default{$1} = $2; }
  else { die "slurm.pl: $config line $lineno: cannot parse '$line'\n"; }
}
close $cfh;
defined $submit or die "slurm.pl: $config has no 'command' line\n";

my %known = map { $_ => 1 } (keys %wild, map { (split /=/)[0] } keys %exact);
for my $name (sort keys %given) {
  $known{$name} or die "slurm.pl: unknown option --$name (not configured in $config)\n";
}
my @submit_opts;
my %values = (%default, %given);
for my $name (sort keys %values) {
  my $value = $values{$name};
  if (exists $exact{"$name=$value"}) {
    push @submit_opts, $exact{"$name=$value"} if $exact{"$name=$value"} ne '';
  } elsif (defined $wild{$name}) {
    (my $opt = $wild{$name}) =~ s/\$0/$value/g;
    push @submit_opts, $opt;
  } else {
    die "slurm.pl: $config has no rule for --$name $value\n";
  }
}

my ($jobvar, $first, $last) = (undef, 1, 1);
if (@ARGV && $ARGV[0] =~ m/^([A-Za-z_]\w*)=(\d+):(\d+)$/) {
  ($jobvar, $first, $last) = ($1, $2, $3);
  shift @ARGV;
  $first <= $last or die "slurm.pl: empty job range $jobvar=$first:$last\n";
} elsif (@ARGV && $ARGV[0] =~ m/^([A-Za-z_]\w*)=(\d+)$/) {
  ($jobvar, $first, $last) = ($1, $2, $2);
  shift @ARGV;
}
@ARGV >= 2 or die "Usage: slurm.pl [options] [JOB=1:N] <log-file> <command> ...\n";
my $logtemplate = shift @ARGV;
if (defined $jobvar && $first != $last && $logtemplate !~ m/\b$jobvar\b/) {
  die "slurm.pl: the log name '$logtemplate' must contain $jobvar when running several jobs\n";
}
# A single argument is a whole shell command line.
my @words;
for my $arg (@ARGV == 1 ? () : @ARGV) {
  if ($arg =~ m/^\S+$/) { push @words, $arg; }
  else { (my $q = $arg) =~ s/'/'\\''/g; push @words, "'$q'"; }
}
my $cmd = @ARGV == 1 ? $ARGV[0] : join(' ', @words);

# The job script finds its index in SLURM_ARRAY_TASK_ID.
my $logdir = dirname($logtemplate);
make_path($logdir) unless -d $logdir;
my $qdir = "$logdir/q";
make_path($qdir) unless -d $qdir;
(my $base = basename($logtemplate)) =~ s/\.log$//;
$base =~ s/\b$jobvar\b//g if defined $jobvar;
$base =~ s/\.+/./g; $base =~ s/^\.|\.$//g;
$base = 'job' if $base eq '';
my $script = abs_path($qdir) . "/$base.sh";
my $donebase = abs_path($qdir) . "/done.$base";
unlink glob("$donebase.*");
my ($log_sh, $cmd_sh) = ($logtemplate, $cmd);
if (defined $jobvar) {
  $log_sh =~ s/\b$jobvar\b/\${SLURM_ARRAY_TASK_ID}/g;
  $cmd_sh =~ s/\b$jobvar\b/\${SLURM_ARRAY_TASK_ID}/g;
}
my $cwd = getcwd();
open(my $sfh, '>', $script) or die "slurm.pl: cannot write $script: $!\n";
print $sfh <<"SCRIPT";
#!/usr/bin/env bash
cd '$cwd'
[ -f ./path.sh ] && . ./path.sh
SLURM_ARRAY_TASK_ID=\${SLURM_ARRAY_TASK_ID:-$first}
log="$log_sh"
mkdir -p "\$(dirname "\$log")"
{ echo "# $cmd_sh"; echo "# Started at \$(date) on \$(hostname)"; echo "#"; } > "\$log"
start=\$(date +%s)
( $cmd_sh ) </dev/null >> "\$log" 2>&1
code=\$?
end=\$(date +%s)
echo "# Accounting: time=\$((end - start)) threads=\${SLURM_CPUS_PER_TASK:-1}" >> "\$log"
echo "# Ended (code \$code) at \$(date), elapsed time \$((end - start)) seconds" >> "\$log"
echo \$code > "$donebase.\${SLURM_ARRAY_TASK_ID}"
exit \$code
SCRIPT
close $sfh;
chmod 0755, $script;

my $array = '';
if (defined $jobvar) {
  $array = "--array=$first-$last" . ($max_jobs ? "%$max_jobs" : '');
}
my $out = defined $jobvar ? abs_path($qdir) . "/$base-%a.out" : abs_path($qdir) . "/$base.out";
my $submission = join(' ', $submit, @submit_opts, $array, "--output=$out", $script);
$submission =~ s/\s+/ /g;
my $answer = `$submission 2>&1`;
if ($? != 0) {
  die "slurm.pl: submission failed: $submission\n$answer";
}
my ($jobid) = $answer =~ m/(\d+)\s*$/;
defined $jobid or die "slurm.pl: could not read a job id from the answer of: $submission\n$answer";

# Wait for every task to leave its exit code behind.  If the queue forgets
# the job while some codes are missing (killed, node failure), those fail.
my $have_squeue = system('bash', '-c', 'command -v squeue >/dev/null 2>&1') == 0;
my %code;
my $gone_checks = 0;
my $waited = 0;
while (1) {
  for my $index ($first .. $last) {
    next if defined $code{$index};
    my $done = "$donebase.$index";
    if (-f $done) {
      open(my $dfh, '<', $done) or next;
      my $c = <$dfh>; close $dfh;
      next unless defined $c && $c =~ m/^(\d+)/;
      $code{$index} = $1;
    }
  }
  last if scalar(keys %code) == $last - $first + 1;
  select(undef, undef, undef, $poll);
  $waited += $poll;
  if ($have_squeue && $waited >= 10 * $poll) {
    $waited = 0;
    my $state = `squeue -h -j $jobid 2>/dev/null`;
    if ($state =~ m/^\s*$/) {
      # Give the file system a moment to show the last exit codes.
      if (++$gone_checks >= 3) {
        for my $index ($first .. $last) { $code{$index} //= 'lost'; }
        last;
      }
    }
  }
}

my @failed = grep { $code{$_} ne '0' } sort { $a <=> $b } keys %code;
if (@failed) {
  my $total = $last - $first + 1;
  my @logs = map { my $l = $logtemplate; $l =~ s/\b$jobvar\b/$_/g if defined $jobvar; $l } @failed;
  print STDERR "slurm.pl: " . scalar(@failed) . " / $total failed (job $jobid), log is in " . join(' ', @logs) . "\n";
  exit 1;
}
exit 0;
