#!/usr/bin/env perl
# utt2spk on stdin or in a file -> spk2utt on stdout, speakers in order of
# first appearance, utterances in input order.
use strict;
use warnings;
my (@order, %utts);
while (my $line = <>) {
  my ($utt, $spk, @rest) = split(' ', $line);
  next unless defined $utt;
  defined $spk && !@rest or die "utt2spk_to_spk2utt.pl: line $.: expected '<utt> <spk>', got: $line";
  push @order, $spk unless exists $utts{$spk};
  push @{$utts{$spk}}, $utt;
}
print "$_ @{$utts{$_}}\n" for @order;
