#!/usr/bin/env perl
# Splits a Kaldi table (scp, text, ...) into pieces of nearly equal size,
# keeping the line order:
#   split_scp.pl in.scp out.1.scp out.2.scp ...
#   split_scp.pl --utt2spk data/utt2spk in.scp out.1.scp ...
#                 keeps each speaker's lines in one piece
# Fails if there are more pieces than lines (or speakers), since a piece
# would be empty.
use strict;
use warnings;

my $utt2spk_file;
while (@ARGV && $ARGV[0] =~ m/^--/) {
  my $opt = shift @ARGV;
  if ($opt =~ m/^--utt2spk(?:=(.*))?$/) { $utt2spk_file = defined $1 ? $1 : shift @ARGV; }
  else { die "split_scp.pl: unknown option $opt\n"; }
}
@ARGV >= 2 or die "Usage: split_scp.pl [--utt2spk utt2spk] in.scp out.1.scp [out.2.scp ...]\n";
my ($in, @outs) = @ARGV;

open(my $fh, '<', $in) or die "split_scp.pl: cannot read $in: $!\n";
my @lines = <$fh>;
close $fh;
my $n = scalar @outs;

# Group lines: one group per line, or one per speaker.
my @groups;
if (defined $utt2spk_file) {
  open(my $u, '<', $utt2spk_file) or die "split_scp.pl: cannot read $utt2spk_file: $!\n";
  my %spk;
  while (my $l = <$u>) { my ($utt, $s) = split(' ', $l); $spk{$utt} = $s if defined $s; }
  close $u;
  my ($prev, $lineno) = (undef, 0);
  for my $line (@lines) {
    $lineno++;
    my ($utt) = split(' ', $line);
    defined $utt or die "split_scp.pl: $in line $lineno is empty\n";
    my $s = $spk{$utt};
    defined $s or die "split_scp.pl: utterance $utt ($in line $lineno) is not in $utt2spk_file\n";
    if (!defined $prev || $prev ne $s) { push @groups, []; $prev = $s; }
    push @{$groups[-1]}, $line;
  }
} else {
  @groups = map { [$_] } @lines;
}
my $g = scalar @groups;
$g >= $n or die "split_scp.pl: cannot split $g " . (defined $utt2spk_file ? 'speakers' : 'lines') . " of $in into $n pieces\n";

# Piece i takes groups [floor(i*g/n), floor((i+1)*g/n)).
for my $i (0 .. $n - 1) {
  my ($from, $to) = (int($i * $g / $n), int(($i + 1) * $g / $n));
  open(my $o, '>', $outs[$i]) or die "split_scp.pl: cannot write $outs[$i]: $!\n";
  print $o @{$groups[$_]} for $from .. $to - 1;
  close $o or die "split_scp.pl: error writing $outs[$i]: $!\n";
}
