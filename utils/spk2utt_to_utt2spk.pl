#!/usr/bin/env perl
# spk2utt on stdin or in a file -> utt2spk on stdout.
use strict;
use warnings;
while (my $line = <>) {
  my ($spk, @utts) = split(' ', $line);
  next unless defined $spk;
  @utts or die "spk2utt_to_utt2spk.pl: line $.: speaker $spk has no utterances\n";
  print "$_ $spk\n" for @utts;
}
